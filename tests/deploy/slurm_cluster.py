"""A real one-node SLURM cluster for tests: munged, slurmctld and slurmd started in the foreground
(no systemd), every file under one temporary directory, stopped again by PID.

Nothing here touches the machine's own SLURM or munge set-up: the cluster has its own munge key
and socket, its own slurm.conf (clients find it through ``SLURM_CONF``) and free TCP ports.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "sinfo", "srun")


def missing_programs() -> list[str]:
    """The programs this cluster needs that are not installed (empty: all there)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in DAEMONS + CLIENTS if shutil.which(name, path=search) is None]


def _program(name: str) -> str:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    path = shutil.which(name, path=search)
    if path is None:
        raise FileNotFoundError(name)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_line() -> str:
    """``NodeName=... CPUs=... RealMemory=...`` as ``slurmd -C`` reports this machine."""
    report = subprocess.run([_program("slurmd"), "-C"], capture_output=True, text=True, check=True,
                            timeout=60).stdout
    line = next(ln for ln in report.splitlines() if ln.startswith("NodeName="))
    return line


@dataclass
class SlurmCluster:
    """Start with ``start()``, stop with ``stop()``; ``env`` is what clients need (SLURM_CONF)."""

    root: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    conf: Path | None = None
    munge_dir: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def diagnostics(self) -> str:
        """The daemons' logs, for a failure message."""
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    # ----------------------------------------------------------------------------- start
    def start(self, timeout: float = 60) -> None:
        for sub in ("state", "spool", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._start_munge(timeout)
        self._write_conf()
        environment = {**os.environ, **self.env}
        for daemon in ("slurmctld", "slurmd"):
            self.processes[daemon] = subprocess.Popen(
                [_program(daemon), "-D"], env=environment, stdin=subprocess.DEVNULL,
                stdout=open(self.root / "log" / f"{daemon}.out", "w"), stderr=subprocess.STDOUT)
        self._wait_for_idle_node(timeout)

    def _start_munge(self, timeout: float) -> None:
        """munged as user munge, with its own key and socket in a directory it owns.

        The directory is under /run (root's, not world-writable) rather than the test's temporary
        directory, whose parents are private to root and so closed to the munge user.
        """
        munge = pwd.getpwnam("munge")
        self.munge_dir = Path(tempfile.mkdtemp(prefix="ionslit-munge-", dir="/run"))
        os.chown(self.munge_dir, munge.pw_uid, munge.pw_gid)
        os.chmod(self.munge_dir, 0o755)
        key = self.munge_dir / "munge.key"
        subprocess.run([_program("mungekey"), "--create", f"--keyfile={key}"], check=True,
                       user=munge.pw_uid, group=munge.pw_gid, capture_output=True, timeout=60)
        socket_path = self.munge_dir / "munge.socket"
        self.processes["munged"] = subprocess.Popen(
            [_program("munged"), "--foreground", f"--socket={socket_path}", f"--key-file={key}",
             f"--pid-file={self.munge_dir / 'munged.pid'}",
             f"--seed-file={self.munge_dir / 'seed'}",
             f"--log-file={self.munge_dir / 'munged.log'}"],
            user=munge.pw_uid, group=munge.pw_gid, stdin=subprocess.DEVNULL,
            stdout=open(self.root / "log" / "munged.out", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not socket_path.exists():
            if self.processes["munged"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"munged did not start:\n{self.diagnostics()}")
            time.sleep(0.05)

    def _write_conf(self) -> None:
        host = socket.gethostname().split(".")[0]
        node = _node_line()
        node_name = node.split()[0].split("=", 1)[1]
        state, spool, log = (self.root / sub for sub in ("state", "spool", "log"))
        socket_path = self.munge_dir / "munge.socket"
        self.conf = self.root / "slurm.conf"
        self.conf.write_text(f"""\
# Generated by tests/deploy/slurm_cluster.py: a one-node cluster for the deployment tests.
ClusterName=ionslit-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket_path}
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={spool}/slurmd.pid
SlurmctldLogFile={log}/slurmctld.log
SlurmdLogFile={log}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=pmi2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
{node} NodeAddr=127.0.0.1 NodeHostname={node_name} State=UNKNOWN
PartitionName=test Nodes={node_name} Default=YES MaxTime=INFINITE State=UP
""")

    def _wait_for_idle_node(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                                       f"{self.diagnostics()}")
            result = self.client("sinfo", "--noheader", "--Node", "--format=%T", check=False)
            state = result.stdout.strip()
            if result.returncode == 0 and state in ("idle", "idle~"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"node not idle after {timeout} s (state {state!r}):\n"
                           f"{self.diagnostics()}")

    # ----------------------------------------------------------------------------- use
    def client(self, program: str, *args: str, check: bool = True,
               timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([_program(program), *args], env={**os.environ, **self.env},
                              capture_output=True, text=True, check=check, timeout=timeout)

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job`` as a dict (JobState, ExitCode, ...); {} if unknown."""
        result = self.client("scontrol", "--oneliner", "show", "job", job_id, check=False)
        if result.returncode != 0:
            return {}
        return dict(item.split("=", 1) for item in result.stdout.split() if "=" in item)

    def wait(self, job_id: str, timeout: float) -> dict[str, str]:
        """Poll until the job has left the queue; scancel it and raise TimeoutError after
        ``timeout`` s (a job asking for more than the node has stays pending forever)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queued = self.client("squeue", "--noheader", f"--jobs={job_id}", "--format=%T",
                                 check=False)
            if queued.returncode == 0 and not queued.stdout.strip():
                return self.job(job_id)
            state = self.job(job_id).get("JobState", "")
            if state and state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING"):
                return self.job(job_id)
            time.sleep(0.5)
        self.client("scancel", job_id, check=False)
        raise TimeoutError(f"job {job_id} not finished after {timeout} s: {self.job(job_id)}")

    # ----------------------------------------------------------------------------- stop
    def stop(self, timeout: float = 20) -> None:
        """scancel what is left, then stop the daemons this object started (by PID)."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            self.client("scancel", "--full", "--partition=test", check=False)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                queued = self.client("squeue", "--noheader", "--format=%i", check=False)
                if queued.returncode != 0 or not queued.stdout.strip():
                    break
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self.processes.clear()
        if self.munge_dir is not None:
            shutil.rmtree(self.munge_dir, ignore_errors=True)
