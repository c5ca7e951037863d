#!/usr/bin/env python3
"""Start a KRaft broker from KAFKA_* variables, the way the apache/kafka image does.

KAFKA_FOO_BAR=x becomes foo.bar=x in server.properties; CLUSTER_ID formats the log
directory on the first start.
"""

import os
import subprocess
import sys

CONFIG = "/opt/kafka/config/server.properties"
CLASSPATH = "/opt/kafka/libs/*"
props = {
    key[len("KAFKA_") :].lower().replace("_", "."): value
    for key, value in os.environ.items()
    if key.startswith("KAFKA_") and key not in ("KAFKA_HEAP_OPTS", "KAFKA_OPTS")
}
log_dirs = props.setdefault("log.dirs", "/var/lib/kafka/data")
with open(CONFIG, "w") as f:
    f.writelines(f"{k}={v}\n" for k, v in sorted(props.items()))
java = ["java", *os.environ.get("KAFKA_HEAP_OPTS", "-Xmx512m -Xms512m").split()]
if not os.path.exists(os.path.join(log_dirs.split(",")[0], "meta.properties")):
    cluster_id = os.environ.get("CLUSTER_ID") or sys.exit("CLUSTER_ID is required")
    subprocess.run(
        [
            *java,
            "-cp",
            CLASSPATH,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            CONFIG,
            "--ignore-formatted",
        ],
        check=True,
    )
os.execvp("java", [*java, "-cp", CLASSPATH, "kafka.Kafka", CONFIG])  # noqa: S606 - PID 1
