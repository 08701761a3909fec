{{/* Names and labels: the app.kubernetes.io/* set, one component per process kind. */}}
{{- define "truyvet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "truyvet.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "truyvet.labels" -}}
{{ include "truyvet.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: truyvet
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/*
The partitions of the itineraries topic (truyvet/topics.py: fixed, not a setting; tests/deploy
checks this copy against the catalogue). The API replicas' consumer group shares them: each
re-matches the cases of the partitions Kafka gives it, so at most this many replicas re-match.
*/}}
{{- define "truyvet.itinerariesPartitions" -}}
3
{{- end -}}

{{- define "truyvet.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "truyvet.tls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end -}}
{{- end -}}

{{- define "truyvet.sasl" -}}
{{- if has .Values.kafka.securityProtocol (list "SASL_PLAINTEXT" "SASL_SSL") }}true{{ end -}}
{{- end -}}

{{/*
The environment every truyvet container gets: where Kafka is and how to reach it as the
process's role (.role: worker, api or simulator), the release's settings, the data dir.
*/}}
{{- define "truyvet.env" -}}
{{- $v := .root.Values -}}
{{- if not (has $v.kafka.securityProtocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) }}
{{- fail (printf "kafka.securityProtocol=%s: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL" $v.kafka.securityProtocol) }}
{{- end -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ required "kafka.bootstrapServers is needed" $v.kafka.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.securityProtocol | quote }}
- name: TRUYVET_MANAGE_TOPICS
  value: {{ $v.kafka.manageTopics | quote }}
{{- if include "truyvet.sasl" .root }}
{{- $user := index $v.kafka.users .role }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.saslMechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ required (printf "kafka.users.%s.username is needed with %s" .role $v.kafka.securityProtocol) $user.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "kafka.users.%s.passwordSecret.name is needed with %s" .role $v.kafka.securityProtocol) $user.passwordSecret.name }}
      key: {{ $user.passwordSecret.key }}
{{- end }}
{{- if and (include "truyvet.tls" .root) $v.kafka.caSecret.name }}
- name: KAFKA_SSL_CA_LOCATION
  value: /etc/truyvet/kafka-ca/{{ $v.kafka.caSecret.key }}
{{- end }}
- name: TRUYVET_DATA_DIR
  value: /var/lib/truyvet
{{- range $name, $value := $v.settings }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Volumes every truyvet pod has: the data dir and /tmp (the root filesystem is read-only),
and the Kafka CA when TLS is on. */}}
{{- define "truyvet.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
{{- if and (include "truyvet.tls" .) .Values.kafka.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.caSecret.name }}
    items:
      - key: {{ .Values.kafka.caSecret.key }}
        path: {{ .Values.kafka.caSecret.key }}
{{- end }}
{{- end -}}

{{- define "truyvet.volumeMounts" -}}
- name: data
  mountPath: /var/lib/truyvet
- name: tmp
  mountPath: /tmp
{{- if and (include "truyvet.tls" .) .Values.kafka.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/truyvet/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* What every truyvet pod spec shares: pulling, placement, security. */}}
{{- define "truyvet.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
