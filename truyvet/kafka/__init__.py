"""Everything that talks to Kafka: the backend seam (``record``, ``backend``, with the
confluent-kafka and in-memory implementations), client configuration from the settings
(``config``), durable producers, topic followers and partition readers, topic creation and
consumer lag (``admin``, ``lag``), waiting out a broker that is away (``retry``), and the venue
registry as every process follows it."""
