"""pinpipe and delta-rs append to one Delta table at the same time (issue 17):
two pinpipe writers (tests/table/delta_append_helper, DeltaTable::Append) and
two delta-rs writers (write_deltalake, mode append) race on _delta_log/N.json,
each side committing by atomic create-if-absent and retrying on conflict. No
commit may be lost or doubled: the log holds exactly one version per append,
every appended row is read once by delta-rs and counted by `pinpipe table
show`, and the writers did collide (or the test would prove nothing).
delta-rs's post-commit hook writes a checkpoint at version 100 meanwhile."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_env  # noqa: E402

APPENDS = 30  # per writer
PINPIPE_WRITERS = (1, 2)
DELTARS_WRITERS = (3, 4)
HELPER = os.path.join(spark_env.BUILD, "tests", "table", "delta_append_helper")


def deltars_writer(path, wid, appends):
    """One delta-rs writer (run in its own process)."""
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake
    for i in range(appends):
        write_deltalake(path, pa.table({"ind": pa.array([wid * 1000000 + i], pa.int64()),
                                        "writer": pa.array(["delta-rs-%d" % wid])}),
                        mode="append", commit_properties=CommitProperties(max_commit_retries=10000))


def main():
    from deltalake import DeltaTable
    spark_env.need_binary(spark_env.PINPIPE)
    spark_env.need_binary(HELPER)
    tmp = tempfile.mkdtemp(prefix="pinpipe-concurrent-")
    bad = []
    try:
        path = os.path.join(tmp, "race")
        spark_env.run([HELPER, path, "0", "0"])  # creates the table (version 0)
        t0 = time.time()
        procs = [subprocess.Popen([HELPER, path, str(w), str(APPENDS)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for w in PINPIPE_WRITERS]
        procs += [subprocess.Popen([sys.executable, __file__, "deltars", path, str(w), str(APPENDS)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for w in DELTARS_WRITERS]
        outs = [p.communicate(timeout=600) for p in procs]
        print("%d appends by 4 writers in %.1f s" % (4 * APPENDS, time.time() - t0))
        attempts = 0
        for p, (out, err) in zip(procs, outs):
            if p.returncode != 0:
                bad.append("a writer failed (%s): %s" % (" ".join(p.args[-3:]), err[-1500:]))
            m = re.search(r"^attempts (\d+)", out, re.M)
            if m:
                attempts += int(m.group(1))
        want_versions = 1 + 4 * APPENDS
        log = os.path.join(path, "_delta_log")
        commits = sorted(int(f[:20]) for f in os.listdir(log) if re.fullmatch(r"\d{20}\.json", f))
        if commits != list(range(want_versions)):
            bad.append("the log holds versions %s..%s (%d files), want 0..%d" % (
                commits[:1], commits[-1:], len(commits), want_versions - 1))
        dt = DeltaTable(path)
        rows = dt.to_pyarrow_table().to_pylist()
        want = sorted(w * 1000000 + i for w in PINPIPE_WRITERS + DELTARS_WRITERS for i in range(APPENDS))
        got = sorted(r["ind"] for r in rows)
        if got != want:
            bad.append("delta-rs reads %d rows (%d distinct), want the %d appended" % (
                len(got), len(set(got)), len(want)))
        if dt.version() != want_versions - 1:
            bad.append("delta-rs sees version %d, want %d" % (dt.version(), want_versions - 1))
        hist = dt.history()
        if sorted(h["version"] for h in hist) != list(range(want_versions)):
            bad.append("delta-rs history() lists %d versions, want %d" % (len(hist), want_versions))
        show = spark_env.run([spark_env.PINPIPE, "table", "show", path]).stdout.decode()
        version = int(re.search(r"^version:\s+(\d+)", show, re.M).group(1))
        n = int(re.search(r"^rows:\s+(\d+)", show, re.M).group(1))
        if (version, n) != (want_versions - 1, len(want)):
            bad.append("pinpipe table show: version %d with %d rows, want %d with %d" % (
                version, n, want_versions - 1, len(want)))
        print("pinpipe's writers made %d commit attempts for %d appends" % (
            attempts, len(PINPIPE_WRITERS) * APPENDS))
        if attempts <= len(PINPIPE_WRITERS) * APPENDS:
            bad.append("no pinpipe commit lost a race: the writers did not overlap")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for b in bad:
        print("FAIL: " + b)
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "deltars":
        deltars_writer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
