"""The daily batch DAG for users who run Airflow (or Amazon MWAA).

It mirrors `pinpipe up`'s built-in scheduler: read the sink's objects, clean
the three tables, answer the eight questions. Each task calls the `pinpipe`
binary, so the same code runs on a laptop, on a plain server and here.

Settings come from Airflow Variables (with defaults):
  pinpipe_bin     path of the pinpipe binary            (/usr/local/bin/pinpipe)
  pinpipe_store   object store with the sink's output    (s3://pinpipe-lake)
  pinpipe_prefix  the user prefix naming the topics      (0a60b9a8a831)
  pinpipe_out     where results go (one folder per run)  (s3://pinpipe-results)
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator

PINPIPE = Variable.get("pinpipe_bin", default_var="/usr/local/bin/pinpipe")
STORE = Variable.get("pinpipe_store", default_var="s3://pinpipe-lake")
PREFIX = Variable.get("pinpipe_prefix", default_var="0a60b9a8a831")
OUT = Variable.get("pinpipe_out", default_var="s3://pinpipe-results")

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
    schedule_interval="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["pinpipe"],
) as dag:
    common = f"{PINPIPE} batch --store {STORE} --prefix {PREFIX}"

    # Reading and cleaning are checked on their own so a bad input day shows up
    # as a failed task with the rejects count in its log.
    check_input = BashOperator(
        task_id="read_sink_objects",
        bash_command=f"{PINPIPE} lake ls {STORE}/topics/{PREFIX}.pin/ --summary",
    )
    queries = BashOperator(
        task_id="clean_and_query",
        bash_command=common + " --out " + OUT + "/{{ ds }}",
    )
    check_input >> queries
