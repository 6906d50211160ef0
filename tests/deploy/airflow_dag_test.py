"""Airflow 3 (SQLite metadata, AIRFLOW_HOME in a temp folder) runs the shipped DAG
deploy/airflow/pinpipe_dag.py with `airflow dags test` against a running `pinpipe up`.

1. The DAG parses with no import error, without the Databricks provider; its tasks carry
   the right parameters for each engine (pinpipe, spark-submit, databricks).
2. A seeded source is emulated into `pinpipe up`; the DAG run succeeds and its answers are
   byte for byte those of `pinpipe batch` on the same lake.
3. With the pipeline stopped, a DAG run fails, naming the pipeline that does not answer.

Usage (CTest runs it with the airflow venv, tests/support/peer-python):
  airflow_dag_test.py <pinpipe binary> <source dir>
"""
import copy
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

BINARY, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from pinpipe_proc import Pinpipe  # noqa: E402

PREFIX = "0a60b9a8a831"
DAG_ID = f"{PREFIX}_dag"
DAGS = os.path.join(SOURCE, "deploy", "airflow")
VENV = os.environ.get("PINPIPE_PEERS_VENV", os.path.dirname(os.path.dirname(sys.executable)))
TMP = tempfile.TemporaryDirectory(prefix="pinpipe-airflow-")
HOME = os.path.join(TMP.name, "airflow")
os.makedirs(HOME)
# Before airflow is imported: it reads its settings from the environment once.
AIRFLOW_ENV = {
    "AIRFLOW_HOME": HOME,
    "AIRFLOW__CORE__DAGS_FOLDER": DAGS,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in the source tree
    "AIRFLOW_VAR_PINPIPE_BIN": BINARY,  # settings as Airflow Variables (environment form)
}
os.environ.update(AIRFLOW_ENV)


def airflow(*args, timeout=300):
    return subprocess.run([os.path.join(VENV, "bin", "airflow"), *args], env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


class VarStub:
    """`var.value` in a template context: Variables from the environment, as Airflow reads
    them first (AIRFLOW_VAR_<KEY>); none is in the test's metadata database."""

    def get(self, key, default=None):
        return os.environ.get("AIRFLOW_VAR_" + key.upper(), default)


class ParsesWithEveryEngine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from airflow.dag_processing.dagbag import DagBag

        cls.bag = DagBag(DAGS)
        cls.dag = cls.bag.dags.get(DAG_ID)

    def render(self, task, **params):
        base = {name: "" for name in self.dag.params.keys()}
        base.update(params)
        ctx = {"params": base, "ds": "2026-12-01", "var": {"value": VarStub()}}
        return {f: task.render_template(getattr(task, f), ctx) for f in task.template_fields}

    def test_parses_without_errors(self):
        self.assertEqual(self.bag.import_errors, {})
        self.assertIsNotNone(self.dag, list(self.bag.dags))
        self.assertEqual(self.dag.params["engine"], "pinpipe")
        self.assertEqual(
            sorted(self.dag.task_ids),
            ["check_pipeline", "choose_engine", "clean_and_query", "databricks_submit_run",
             "read_sink_objects", "spark_submit"])
        self.assertEqual(self.dag.get_task("check_pipeline").retries, 0)

    def test_engine_parameter_chooses_the_branch(self):
        choose = self.dag.get_task("choose_engine")
        downstream = choose.downstream_task_ids
        for engine, task_id in [("pinpipe", "read_sink_objects"), ("spark-submit", "spark_submit"),
                                ("databricks", "databricks_submit_run")]:
            self.assertEqual(choose.python_callable(params={"engine": engine}), task_id)
            self.assertIn(task_id, downstream)
        engine = copy.deepcopy(self.dag.params.get_param("engine"))
        self.assertEqual(engine.resolve("spark-submit"), "spark-submit")
        with self.assertRaises(Exception):
            engine.resolve("flink")

    def test_pinpipe_tasks(self):
        cmd = self.render(self.dag.get_task("clean_and_query"), store="file:///lake",
                          out="/results")["bash_command"]
        self.assertEqual(cmd, f"{BINARY} batch --store file:///lake --prefix {PREFIX} "
                              "--out /results/2026-12-01")
        ls = self.render(self.dag.get_task("read_sink_objects"), store="file:///lake")["bash_command"]
        self.assertIn(f"{BINARY} lake ls --store file:///lake -l topics/{PREFIX}.pin/", ls)

    def test_spark_submit_task_runs_the_shipped_job_with_the_same_parameters(self):
        cmd = self.render(self.dag.get_task("spark_submit"), store="s3://my-lake/p",
                          out="s3a://my-results", spark_args="--packages io.delta:delta-spark_2.13:4.0.0")[
            "bash_command"]
        script = os.path.normpath(os.path.join(SOURCE, "deploy", "spark", "pinpipe_batch.py"))
        self.assertEqual(
            cmd, f'script="{script}" && spark-submit --master "local[2]" '
                 '--packages io.delta:delta-spark_2.13:4.0.0 '
                 '--py-files "$(dirname "$script")/pinpipe_clean.py" "$script" '
                 f'"--lake" "s3a://my-lake/p" "--prefix" "{PREFIX}" "--out" "s3a://my-results/2026-12-01"')
        # By default Delta Lake's package and settings go with the job.
        default = self.render(self.dag.get_task("spark_submit"))["bash_command"]
        self.assertIn("--packages io.delta:delta-spark_", default)
        self.assertIn("spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension", default)
        local = self.render(self.dag.get_task("spark_submit"), store="file:///srv/lake",
                            spark_master="spark://10.0.0.1:7077")["bash_command"]
        self.assertIn('--master "spark://10.0.0.1:7077"', local)
        self.assertIn('"--lake" "file:///srv/lake"', local)

    def test_databricks_task_is_a_submit_run_with_the_same_parameters(self):
        task = self.dag.get_task("databricks_submit_run")
        try:
            import airflow.providers.databricks  # noqa: F401
            have_provider = True
        except ImportError:
            have_provider = False
        self.assertEqual(type(task).__name__,
                         "DatabricksSubmitRunOperator" if have_provider else "MissingDatabricksProvider")
        rendered = self.render(task, store="s3a://my-lake", out="dbfs:/results")
        run = rendered["json"]
        self.assertEqual(rendered["databricks_conn_id"], "databricks_default")
        self.assertEqual(run["run_name"], "pinpipe-batch-2026-12-01")
        (only,) = run["tasks"]
        self.assertEqual(only["new_cluster"]["spark_version"], "15.4.x-scala2.12")
        self.assertEqual(only["spark_python_task"], {
            "python_file": "dbfs:/pinpipe/pinpipe_batch.py",
            "parameters": ["--lake", "s3://my-lake", "--prefix", PREFIX, "--out",
                           "dbfs:/results/2026-12-01"]})
        if not have_provider:
            with self.assertRaisesRegex(Exception, "apache-airflow-providers-databricks"):
                task.execute({})


def sink_caught_up(base):
    with urllib.request.urlopen(base + "/api/status", timeout=5) as r:
        status = json.load(r)
    parts = status["sink"]["partitions"]
    return (status["sink"]["lag"] == 0 and len({p["topic"] for p in parts}) == 3
            and all(p["committed_offset"] == p["high_watermark"] > 0 for p in parts))


class RunsAgainstPinpipeUp(unittest.TestCase):
    def test_run_succeeds_then_fails_once_the_pipeline_stops(self):
        work = os.path.join(TMP.name, "pipe")
        os.makedirs(work)
        env = {
            "PINPIPE_GENERAL_PREFIX": PREFIX,
            "PINPIPE_SOURCE_URL": f"sqlite://{work}/source.db",
            "PINPIPE_LAKE_URL": f"file://{work}/lake",
            "PINPIPE_STREAM_TABLES": f"file://{work}/tables",
            "PINPIPE_SINK_ROTATE_SCHEDULE_INTERVAL_MS": "500",
        }
        os.environ.update(env)
        seed = subprocess.run([BINARY, "seed", "--rows", "3000"], capture_output=True, text=True)
        self.assertEqual(seed.returncode, 0, seed.stderr)
        up = Pinpipe(BINARY, work, ["--set", "stream.enabled=false", "--set",
                                    "schedule.enabled=false", "up", "--listen", "127.0.0.1:{port}",
                                    "--data-dir", os.path.join(work, "data")])
        try:
            em = subprocess.run([BINARY, "emulate", "--mode", "batch", "--api", up.base, "--count",
                                 "600", "--max-index", "3000", "--concurrency", "2",
                                 "--batch-size", "50"], capture_output=True, text=True)
            self.assertEqual(em.returncode, 0, em.stdout + em.stderr)
            deadline = time.monotonic() + 60
            while not sink_caught_up(up.base):
                self.assertLess(time.monotonic(), deadline, "the sink did not catch up")
                time.sleep(0.2)

            # What the answers must be: pinpipe batch on the same lake, outside Airflow.
            ref = os.path.join(work, "reference")
            r = subprocess.run([BINARY, "batch", "--store", f"file://{work}/lake", "--prefix", PREFIX,
                                "--out", ref, "-q"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)

            migrate = airflow("db", "migrate")
            self.assertEqual(migrate.returncode, 0, migrate.stdout[-3000:] + migrate.stderr[-3000:])
            results = os.path.join(work, "results")
            conf = {"store": f"file://{work}/lake", "out": results, "api": up.base,
                    "wait_seconds": "30"}
            run = airflow("dags", "test", DAG_ID, "2026-12-01", "-c", json.dumps(conf))
            log = run.stdout + run.stderr
            self.assertEqual(run.returncode, 0, log[-6000:])
            self.assertIn("state=success", log)
            got = os.path.join(results, "2026-12-01")
            answers = sorted(f for f in os.listdir(ref) if f.startswith("q"))
            self.assertEqual(len(answers), 18, answers)  # q1..q8 with 3a/3b, csv and json
            match, mismatch, errors = filecmp.cmpfiles(ref, got, answers, shallow=False)
            self.assertEqual((mismatch, errors), ([], []))
            with open(os.path.join(got, "summary.json")) as f:
                summary = json.load(f)
            self.assertEqual(summary["records"], 1800, summary)  # 600 posts, 3 records each
            self.assertEqual(summary["store"], f"file://{work}/lake")
        finally:
            up.stop()

        run = airflow("dags", "test", DAG_ID, "2026-12-02", "-c",
                      json.dumps(dict(conf, wait_seconds="2")))
        log = run.stdout + run.stderr
        self.assertNotEqual(run.returncode, 0, log[-6000:])
        self.assertIn("state=failed", log)
        self.assertIn(f"pinpipe at {up.base}: not answering", log)
        self.assertFalse(os.path.exists(os.path.join(results, "2026-12-02")))


if __name__ == "__main__":
    try:
        unittest.main(argv=[sys.argv[0], "-v"])
    finally:
        TMP.cleanup()
