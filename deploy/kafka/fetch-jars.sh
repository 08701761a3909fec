#!/usr/bin/env bash
# Fetch the Apache Kafka broker and tool jars (org.apache.kafka:kafka_2.13 and its
# dependencies, plus Log4j 2 for logging) from Maven Central into a git-ignored cache.
#
#   deploy/kafka/fetch-jars.sh            # -> .cache/kafka/<version>/libs
#   KAFKA_VERSION=4.1.1 deploy/kafka/fetch-jars.sh
#
# Idempotent: a complete cache (marked by .complete) is reused without touching the network.
# Prints the libs directory on stdout; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="${KAFKA_VERSION:-4.4.0}"
log4j_version="${LOG4J_VERSION:-2.26.1}"
cache="${TRUYVET_CACHE_DIR:-$root/.cache}/kafka/$version"
libs="$cache/libs"

if [[ -f "$cache/.complete" ]]; then
  echo "$libs"
  exit 0
fi

command -v mvn >/dev/null || { echo "fetch-jars: Maven (mvn) is required: apt-get install maven" >&2; exit 1; }

echo "fetch-jars: resolving org.apache.kafka:kafka_2.13:$version from Maven Central ..." >&2
rm -rf "$libs.partial"
mvn -B -q -f "$here/pom.xml" \
  -Dkafka.version="$version" -Dlog4j.version="$log4j_version" \
  -DoutputDirectory="$libs.partial" -DincludeScope=runtime \
  dependency:copy-dependencies >&2
ls "$libs.partial"/kafka_2.13-"$version".jar >/dev/null
rm -rf "$libs"
mv "$libs.partial" "$libs"
touch "$cache/.complete"
echo "fetch-jars: $(ls "$libs" | wc -l) jars in $libs" >&2
echo "$libs"
