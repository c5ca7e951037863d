#!/bin/sh
# The Kafka distribution's script of this name (the Compose health check calls it).
exec java -Xmx64m -cp '/opt/kafka/libs/*' kafka.admin.BrokerApiVersionsCommand "$@"
