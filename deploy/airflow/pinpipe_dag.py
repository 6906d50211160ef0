"""The daily batch DAG for users who run Airflow 3 (or Amazon MWAA).

It mirrors `pinpipe up`'s built-in scheduler: check the pipeline, read the sink's
objects, clean the three tables, answer the eight questions. The engine is a DAG
parameter (see deploy/airflow/README.md):

  pinpipe       the `pinpipe batch` binary on the Airflow worker (the default)
  spark-submit  deploy/spark/pinpipe_batch.py with spark-submit (local, YARN, k8s...)
  databricks    the same PySpark job as a Databricks one-time run (runs/submit)

Every setting is a DAG parameter, so one run can override it (`airflow dags trigger
-c '{"engine": "spark-submit"}'`). A parameter left empty falls back to the Airflow
Variable of the same name with a `pinpipe_` prefix (pinpipe_store, ...; also settable
as the environment variable AIRFLOW_VAR_PINPIPE_STORE), then to the default below.
No setting is read while the file is parsed, except the prefix naming the DAG, which
comes from the environment (AIRFLOW_VAR_PINPIPE_PREFIX) so parsing never queries the
metadata database.
"""

import json
import os
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2.7+ (MWAA before 3)
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param
try:
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
except ImportError:
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import BranchPythonOperator
from airflow.exceptions import AirflowException

PREFIX = os.environ.get("AIRFLOW_VAR_PINPIPE_PREFIX", "0a60b9a8a831")
HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (default, description). The defaults suit a server laid out like deploy/config.
SETTINGS = {
    "bin": ("/usr/local/bin/pinpipe", "path of the pinpipe binary"),
    "store": ("s3://pinpipe-lake", "object store with the sink's output (file:///... or s3://...)"),
    "prefix": (PREFIX, "the user prefix naming the topics"),
    "out": ("/var/lib/pinpipe/results", "folder for the results, one subfolder per run date"),
    "api": ("", "URL of the running pipeline (http://host:8082); empty: do not check it"),
    "wait_seconds": ("300", "how long check_pipeline waits for the pipeline to answer"),
    "spark_submit": ("spark-submit", "the spark-submit command"),
    "spark_master": ("local[2]", "spark-submit --master"),
    "spark_script": (
        os.path.normpath(os.path.join(HERE, "..", "spark", "pinpipe_batch.py")),
        "path of deploy/spark/pinpipe_batch.py on the worker",
    ),
    "spark_args": (
        "--packages io.delta:delta-spark_4.2_2.13:4.4.0"
        " --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
        " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark-submit options before the script (Delta Lake's package and settings)",
    ),
    "databricks_conn_id": ("databricks_default", "Airflow connection to the workspace"),
    "databricks_python_file": (
        "dbfs:/pinpipe/pinpipe_batch.py",
        "where pinpipe_batch.py (and pinpipe_clean.py beside it) live in the workspace",
    ),
}
# The Databricks run's new_cluster: a dict, so it is read when the file is parsed (from the
# environment, like the prefix), not per run.
DATABRICKS_CLUSTER = json.loads(
    os.environ.get(
        "AIRFLOW_VAR_PINPIPE_DATABRICKS_CLUSTER",
        '{"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}',
    )
)
ENGINES = ["pinpipe", "spark-submit", "databricks"]


def setting(name):
    """A Jinja expression: the run's parameter, else the Airflow Variable, else the default."""
    default = SETTINGS[name][0]
    return "{{ params.%s or var.value.get('pinpipe_%s', %r) }}" % (name, name, default)


def out_for_run():
    return setting("out") + "/{{ ds }}"


# The job's parameters, the same for every engine (spark-submit and Databricks get the
# store as s3a:// or s3:// as each expects; see spark_lake()).
def spark_lake(scheme):
    return "{{ (params.store or var.value.get('pinpipe_store', %r)) | replace('s3a://', 's3://') | replace('s3://', %r) }}" % (
        SETTINGS["store"][0],
        scheme,
    )


def job_parameters(lake):
    return ["--lake", lake, "--prefix", setting("prefix"), "--out", out_for_run()]


SPARK_PARAMETERS = job_parameters(spark_lake("s3a://"))
DATABRICKS_PARAMETERS = job_parameters(spark_lake("s3://"))


def databricks_run_json(cluster, python_file):
    """The runs/submit request (also DatabricksSubmitRunOperator's `json`)."""
    return {
        "run_name": "pinpipe-batch-{{ ds }}",
        "tasks": [
            {
                "task_key": "pinpipe_batch",
                "new_cluster": cluster,
                "spark_python_task": {
                    "python_file": python_file,
                    "parameters": DATABRICKS_PARAMETERS,
                },
            }
        ],
    }


try:
    from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator
except ImportError:  # the provider is optional: the DAG still parses, the task says what is missing
    DatabricksSubmitRunOperator = None

try:
    from airflow.sdk import BaseOperator
except ImportError:
    from airflow.models import BaseOperator


class MissingDatabricksProvider(BaseOperator):
    """Stands in for DatabricksSubmitRunOperator (same `json`, `databricks_conn_id`) when
    apache-airflow-providers-databricks is not installed, and fails the run saying so."""

    template_fields = ("json", "databricks_conn_id")

    def __init__(self, *, json, databricks_conn_id="databricks_default", **kwargs):
        super().__init__(**kwargs)
        self.json = json
        self.databricks_conn_id = databricks_conn_id

    def execute(self, context):
        raise AirflowException(
            "engine=databricks needs apache-airflow-providers-databricks on the Airflow workers"
        )


default_args = {
    "owner": "pinpipe",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=2),
}

with DAG(
    dag_id=f"{PREFIX}_dag",
    description="Clean the sink's Pinterest records and answer the eight questions",
    default_args=default_args,
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["pinpipe"],
    params={
        "engine": Param("pinpipe", enum=ENGINES, description="which engine runs the batch job"),
        **{
            name: Param("", type="string", description=f"{desc} (default {default!r})")
            for name, (default, desc) in SETTINGS.items()
        },
    },
) as dag:

    # Fails fast and visibly when the pipeline is down: no retries, since the sink's lag
    # is what the run needs, and a stopped pipeline has none to give. It waits for the
    # sink to have written everything the API accepted (lag 0).
    @task(task_id="check_pipeline", retries=0)
    def check_pipeline(api, wait_seconds):
        if not api:
            print("no pipeline URL (param 'api'): not checking it")
            return
        deadline = time.monotonic() + float(wait_seconds or 0)
        last = None
        while True:
            try:
                with urllib.request.urlopen(api.rstrip("/") + "/api/status", timeout=10) as r:
                    status = json.load(r)
                lag = status.get("sink", {}).get("lag", 0)
                if lag == 0:
                    print(f"pinpipe at {api} is up; sink lag 0")
                    return
                last = f"sink lag {lag}"
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = f"not answering: {e}"
            if time.monotonic() >= deadline:
                raise AirflowException(f"pinpipe at {api}: {last}")
            time.sleep(2)

    check = check_pipeline(api=setting("api"), wait_seconds=setting("wait_seconds"))

    choose_engine = BranchPythonOperator(
        task_id="choose_engine",
        python_callable=lambda params: {
            "pinpipe": "read_sink_objects",
            "spark-submit": "spark_submit",
            "databricks": "databricks_submit_run",
        }[params["engine"]],
    )

    # Reading is checked on its own so an empty input day shows up as a failed task.
    read_sink_objects = BashOperator(
        task_id="read_sink_objects",
        bash_command=(
            f'objects=$({setting("bin")} lake ls --store {setting("store")} -l '
            f'topics/{setting("prefix")}.pin/) && echo "$objects" && '
            '[ -n "$objects" ] || { echo "no objects under topics/'
            + setting("prefix")
            + '.pin/" >&2; exit 1; }'
        ),
    )
    clean_and_query = BashOperator(
        task_id="clean_and_query",
        bash_command=(
            f'{setting("bin")} batch --store {setting("store")} --prefix {setting("prefix")} '
            f"--out {out_for_run()}"
        ),
    )
    spark_submit = BashOperator(
        task_id="spark_submit",
        bash_command=(
            f'script="{setting("spark_script")}" && '
            f'{setting("spark_submit")} --master "{setting("spark_master")}" {setting("spark_args")} '
            # The cleaning module beside the job, shipped to the executors.
            '--py-files "$(dirname "$script")/pinpipe_clean.py" "$script" '
            + " ".join(f'"{p}"' for p in SPARK_PARAMETERS)
        ),
    )
    databricks_cls = DatabricksSubmitRunOperator or MissingDatabricksProvider
    databricks_submit_run = databricks_cls(
        task_id="databricks_submit_run",
        databricks_conn_id=setting("databricks_conn_id"),
        json=databricks_run_json(DATABRICKS_CLUSTER, setting("databricks_python_file")),
    )

    check >> choose_engine >> [read_sink_objects, spark_submit, databricks_submit_run]
    read_sink_objects >> clean_and_query
