#!/usr/bin/env python3
"""The ECS runner image's entrypoint: one Ansible run per container.

The contract (adapters/ansible-runner/ecs.ts writes the other side):
  INFRAAI_JOB_URI          s3://<bucket>/<runKey>/job.json, uploaded last by the ECS runner; it names
                           the playbook, inventory, extra variables, known_hosts and keys/<name>.key
                           next to it, the ansible-playbook options and the timeout
  INFRAAI_TIMEOUT_SECONDS  the run's timeout (the smaller of this and job.json's timeoutSeconds)
  AWS_ENDPOINT_URL         an S3-compatible endpoint (tests); read here because Debian bookworm's
                           boto3 (1.26) predates botocore's own support for it (1.31.57)

It builds ansible-runner's private data dir the way the local runner does (local.ts: same layout,
environment built from scratch, strict host keys from the job's known_hosts, the keys in a private
0700 directory whose path reaches the inventory as `infraai_key_dir`), runs Debian's
`ansible-runner run <pdd> -p playbook.yml -j` and passes its JSON events through to stdout, one per
line and each under 16 KB (Docker splits longer lines, and the ECS runner reads one event a line).
The last line on stdout is {"event":"infraai_runner_exit","rc":N}; the process exits with N.

rc: Ansible's own (from ansible-runner's rc file), or
  124  the run outlived its timeout and was stopped here
  130  / 143  stopped by SIGINT / SIGTERM (ECS StopTask sends SIGTERM)
  125  the run could not be set up (no job, a bad job, S3 refused, a fault of this program)
A stop sends INT, then TERM, then KILL to every process of the execution and to their process
groups (found, like supervisor.mjs finds them, by a marker variable in their environment or the
workspace path in their command line) within about 8 s, well inside ECS's stopTimeout.

Python 3 standard library and boto3 only.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlparse

EXIT_EVENT = 'infraai_runner_exit'
RC_TIMEOUT = 124
RC_SETUP_FAILED = 125
MARKER_NAME = 'INFRAAI_ANSIBLE_EXECUTION'
ARTIFACT_IDENT = 'run'
# Docker's log drivers split a line at 16 KiB; stay well under it, newline included.
LINE_LIMIT_BYTES = 15 * 1024
# ansible-runner replaces a module result (event_data.res) whose text is longer than this with {}
# (and `changed`/`failed` go with it); a smaller one that still makes the line too long is shrunk
# here, keeping its short fields. The bound keeps huge results out of this process's memory.
DEFAULT_MAX_EVENT_RES = 65536
KEY_FILE = re.compile(r'^keys/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.key$')
PLAIN_FILE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')
STOP_STEPS = ((signal.SIGINT, 3.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0))
LEFTOVER_STEPS = ((signal.SIGTERM, 1.0), (signal.SIGKILL, 2.0))


class SetupError(Exception):
    """The run cannot be set up: Ansible never runs."""


def log(message):
    sys.stderr.write(f'infraai-runner: {message}\n')
    sys.stderr.flush()


# ---------------------------------------------------------------- output


_stdout_lock = threading.Lock()


def emit(line):
    with _stdout_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def _cut(text, keep):
    if len(text) <= keep:
        return text
    return f'{text[:keep]}\n… ({len(text) - keep} characters cut by the runner image)'


def _small(value):
    return value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 200)


def bounded_line(line):
    """The line as is when it fits; an event too large is shrunk (stdout, then the result, then big
    fields) so that it stays one parsable line. The stats event keeps its counts whatever happens."""
    if len(line.encode('utf-8')) < LINE_LIMIT_BYTES:
        return line
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get('event'), str):
        data = line.encode('utf-8')[: LINE_LIMIT_BYTES - 200].decode('utf-8', 'ignore')
        return f'{data} … (line cut by the runner image)'
    is_stats = event['event'] == 'playbook_on_stats'
    data = event.get('event_data') if isinstance(event.get('event_data'), dict) else {}

    def size():
        return len(json.dumps(event).encode('utf-8'))

    if isinstance(event.get('stdout'), str):
        event['stdout'] = _cut(event['stdout'], 4000)
    if size() >= LINE_LIMIT_BYTES and not is_stats and isinstance(data.get('res'), dict):
        # What the ECS runner reads from a result (changed, failed) survives; the rest goes.
        res = {k: v for k, v in data['res'].items() if _small(v)}
        res['infraai_truncated'] = True
        data['res'] = res
    if size() >= LINE_LIMIT_BYTES and isinstance(event.get('stdout'), str):
        event['stdout'] = _cut(event['stdout'], 500)
    if size() >= LINE_LIMIT_BYTES:
        counts = {'changed', 'dark', 'failures', 'ignored', 'ok', 'processed', 'rescued', 'skipped'}
        for key in list(data):
            if is_stats and key in counts:
                continue
            if len(json.dumps(data[key])) > 200:
                data[key] = '(cut by the runner image)'
    if size() >= LINE_LIMIT_BYTES:
        log(f'event {event.get("counter")} ({event["event"]}) is still {size()} bytes: Docker will split it')
    return json.dumps(event)


def forward(stream, to_stdout, stopped):
    """Copies a child's output line by line (stdout: bounded events) until EOF or `stopped`."""
    for raw in iter(stream.readline, b''):
        if stopped.is_set():
            break
        line = raw.decode('utf-8', 'replace').rstrip('\r\n')
        if to_stdout:
            if line.strip():
                emit(bounded_line(line))
        else:
            sys.stderr.write(line + '\n')
            sys.stderr.flush()


# ---------------------------------------------------------------- the job


def s3_client():
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get('AWS_ENDPOINT_URL') or None
    region = os.environ.get('AWS_REGION') or os.environ.get('AWS_DEFAULT_REGION') or None
    config = Config(retries={'max_attempts': 5, 'mode': 'standard'}, s3={'addressing_style': 'path'} if endpoint else {})
    return boto3.client('s3', endpoint_url=endpoint, region_name=region, config=config)


def fetch_job(uri):
    """job.json and the files it names: {'job': dict, 'files': {name: bytes}}."""
    parsed = urlparse(uri)
    if parsed.scheme != 's3' or not parsed.netloc or not parsed.path.endswith('/job.json'):
        raise SetupError(f'INFRAAI_JOB_URI is not s3://<bucket>/<prefix>/job.json: {uri!r}')
    bucket = parsed.netloc
    prefix = parsed.path.lstrip('/')[: -len('job.json')]
    s3 = s3_client()

    def get(name):
        try:
            return s3.get_object(Bucket=bucket, Key=f'{prefix}{name}')['Body'].read()
        except Exception as err:  # botocore's errors: any of them means the job cannot be had
            raise SetupError(f's3://{bucket}/{prefix}{name}: {type(err).__name__}: {err}') from None

    try:
        job = json.loads(get('job.json'))
    except ValueError as err:
        raise SetupError(f'job.json is not JSON: {err}') from None
    if not isinstance(job, dict):
        raise SetupError('job.json is not an object')
    for field in ('playbook', 'inventory', 'extraVars', 'knownHosts'):
        if not isinstance(job.get(field), str) or not PLAIN_FILE.match(job[field]):
            raise SetupError(f'job.json: {field} is not a file name next to it: {job.get(field)!r}')
    keys = job.get('keys', [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and KEY_FILE.match(k) for k in keys):
        raise SetupError(f'job.json: keys is not a list of keys/<name>.key: {keys!r}')
    options = job.get('options', [])
    if not isinstance(options, list) or not all(isinstance(o, str) and o.startswith('-') and ' ' not in o for o in options):
        raise SetupError(f'job.json: options is not a list of ansible-playbook options: {options!r}')
    files = {name: get(name) for name in [job['playbook'], job['inventory'], job['extraVars'], job['knownHosts'], *keys]}
    return {'job': job, 'files': files}


def timeout_seconds(job):
    values = []
    for value in (os.environ.get('INFRAAI_TIMEOUT_SECONDS'), job.get('timeoutSeconds')):
        try:
            if value is not None and float(value) > 0:
                values.append(float(value))
        except (TypeError, ValueError):
            raise SetupError(f'not a timeout in seconds: {value!r}') from None
    return min(values) if values else None


def write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode('utf-8'))


def prepare(ws, fetched, marker_value, ansible_runner):
    """The workspace, as local.ts lays it out; returns (args, env, artifact dir)."""
    job, files = fetched['job'], fetched['files']
    for sub in ('pdd/project', 'pdd/inventory', 'pdd/env', 'keys', 'home', 'tmp', 'cp'):
        os.makedirs(os.path.join(ws, sub), mode=0o700, exist_ok=True)
    pdd = os.path.join(ws, 'pdd')
    key_dir = os.path.join(ws, 'keys')
    for name in job.get('keys', []):
        pem = files[name]
        write(os.path.join(key_dir, os.path.basename(name)), pem if pem.endswith(b'\n') else pem + b'\n')
    write(os.path.join(pdd, 'project', 'playbook.yml'), files[job['playbook']])
    write(os.path.join(pdd, 'inventory', 'hosts.yml'), files[job['inventory']])
    try:
        variables = json.loads(files[job['extraVars']] or b'{}')
    except ValueError as err:
        raise SetupError(f'{job["extraVars"]} is not JSON: {err}') from None
    if not isinstance(variables, dict):
        raise SetupError(f'{job["extraVars"]} is not a JSON object')
    write(os.path.join(pdd, 'env', 'extravars'), json.dumps({**variables, 'infraai_key_dir': key_dir}))
    known_hosts = os.path.join(ws, 'known_hosts')
    kh = files[job['knownHosts']]
    write(known_hosts, kh if kh.endswith(b'\n') else kh + b'\n')
    # Everything is set through the environment; an empty config file keeps /etc/ansible/ansible.cfg out.
    write(os.path.join(ws, 'ansible.cfg'), '[defaults]\n')
    ssh_args = ' '.join(
        [
            '-F /dev/null',
            f'-o UserKnownHostsFile={known_hosts}',
            '-o GlobalKnownHostsFile=/dev/null',
            '-o StrictHostKeyChecking=yes',
            '-o IdentitiesOnly=yes',
            '-o BatchMode=yes',
            '-o ControlMaster=auto',
            '-o ControlPersist=60s',
        ]
    )
    env = {
        'PATH': f'{os.path.dirname(ansible_runner)}:/usr/local/bin:/usr/bin:/bin',
        'HOME': os.path.join(ws, 'home'),
        'TMPDIR': os.path.join(ws, 'tmp'),
        'LANG': 'C.UTF-8',
        'LC_ALL': 'C.UTF-8',
        'ANSIBLE_CONFIG': os.path.join(ws, 'ansible.cfg'),
        'ANSIBLE_HOST_KEY_CHECKING': 'True',
        'ANSIBLE_SSH_ARGS': ssh_args,
        'ANSIBLE_SSH_CONTROL_PATH_DIR': os.path.join(ws, 'cp'),
        'ANSIBLE_LOCAL_TEMP': os.path.join(ws, 'tmp'),
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_PYTHON_INTERPRETER': 'auto_silent',
        'ANSIBLE_PIPELINING': 'True',
        'ANSIBLE_TIMEOUT': '15',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': 'False',
        'MAX_EVENT_RES': os.environ.get('INFRAAI_MAX_EVENT_RES', str(DEFAULT_MAX_EVENT_RES)),
        MARKER_NAME: marker_value,
    }
    args = [ansible_runner, 'run', pdd, '-p', 'playbook.yml', '--ident', ARTIFACT_IDENT, '-j']
    options = job.get('options', [])
    if options:
        args.append(f'--cmdline={" ".join(options)}')
    return args, env, os.path.join(pdd, 'artifacts', ARTIFACT_IDENT)


# ---------------------------------------------------------------- processes


def _stat_fields(pid):
    with open(f'/proc/{pid}/stat', 'rb') as f:
        text = f.read().decode('latin-1')
    return text[text.rindex(')') + 2 :].split(' ')


def marked_processes(marker, ws):
    """Processes of the execution but this one: the marker in their environment, or (ssh
    ControlPersist masters, which overwrite their environment) the workspace in their command line."""
    found = []
    needle_env = marker.encode()
    needle_cmd = f'{ws}/'.encode()
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f'/proc/{entry}/environ', 'rb') as f:
                if needle_env in f.read().split(b'\0'):
                    found.append(int(entry))
                    continue
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                if needle_cmd in f.read():
                    found.append(int(entry))
        except OSError:
            pass  # gone, or not ours to read
    return found


def signal_all(marker, ws, sig):
    pids = marked_processes(marker, ws)
    own_group = os.getpgrp()
    groups = set()
    for pid in pids:
        try:
            group = int(_stat_fields(pid)[2])
        except (OSError, ValueError, IndexError):
            continue
        if group > 1 and group != own_group:
            groups.add(group)
    for group in groups:
        try:
            os.killpg(group, sig)
        except OSError:
            pass
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    return len(pids)


def stop_all(marker, ws, steps, child=None):
    for sig, grace in steps:
        n = signal_all(marker, ws, sig)
        if n == 0:
            return
        log(f'sent {signal.Signals(sig).name} to {n} process(es)')
        until = time.monotonic() + grace
        while time.monotonic() < until:
            if child is not None:
                child.poll()  # reap it, or it stays a zombie that still carries the marker
            if not marked_processes(marker, ws):
                return
            time.sleep(0.1)


# ---------------------------------------------------------------- main


def main():
    os.umask(0o077)
    stop = {'reason': None, 'signal': None}

    def on_signal(signum, _frame):
        if stop['reason'] is None:
            stop['reason'] = 'cancelled'
            stop['signal'] = signum
            log(f'{signal.Signals(signum).name} received: stopping the run')

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def stopped_rc():
        if stop['reason'] == 'timeout':
            return RC_TIMEOUT
        return 128 + int(stop['signal'] or signal.SIGTERM)

    ansible_runner = os.environ.get('INFRAAI_ANSIBLE_RUNNER_BIN', '/usr/bin/ansible-runner')
    base = os.environ.get('INFRAAI_WORK_DIR') or tempfile.gettempdir()
    ws = None
    marker = None
    child = None
    try:
        uri = os.environ.get('INFRAAI_JOB_URI', '')
        if not uri:
            raise SetupError('INFRAAI_JOB_URI is not set')
        fetched = fetch_job(uri)
        timeout = timeout_seconds(fetched['job'])
        if stop['reason']:
            return stopped_rc()
        os.makedirs(base, mode=0o700, exist_ok=True)
        ws = tempfile.mkdtemp(prefix='infraai-run-', dir=base)
        marker_value = secrets.token_hex(16)
        marker = f'{MARKER_NAME}={marker_value}'
        args, env, artifact_dir = prepare(ws, fetched, marker_value, ansible_runner)
        del fetched  # the keys' bytes: only the files in the workspace hold them from here on
        if stop['reason']:
            return stopped_rc()
        log(f'running the job of {run_key_of(uri)} (timeout: {f"{timeout:g} s" if timeout else "none"})')
        try:
            child = subprocess.Popen(
                args,
                cwd=os.path.join(ws, 'pdd'),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as err:
            raise SetupError(f'cannot start {ansible_runner}: {err}') from None
        reading = threading.Event()
        readers = [
            threading.Thread(target=forward, args=(child.stdout, True, reading), daemon=True),
            threading.Thread(target=forward, args=(child.stderr, False, reading), daemon=True),
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + timeout if timeout else None
        stopping = False
        while child.poll() is None:
            if stop['reason'] is None and deadline is not None and time.monotonic() > deadline:
                stop['reason'] = 'timeout'
                log(f'the run outlived its timeout ({timeout:g} s): stopping it')
            if stop['reason'] and not stopping:
                stopping = True
                stop_all(marker, ws, STOP_STEPS, child)
                continue
            time.sleep(0.1)
        # What is left (ssh ControlPersist masters), then the keys.
        stop_all(marker, ws, LEFTOVER_STEPS)
        shutil.rmtree(os.path.join(ws, 'keys'), ignore_errors=True)
        for reader in readers:
            reader.join(timeout=5)
        reading.set()
        # A signal after Ansible ended on its own does not change its rc.
        if stopping:
            return stopped_rc()
        try:
            with open(os.path.join(artifact_dir, 'rc')) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            code = child.returncode
            return 128 - code if code < 0 else code
    except SetupError as err:
        log(f'the run could not be set up: {err}')
        return RC_SETUP_FAILED
    finally:
        # Also after a failure of this program: nothing of the run outlives it, nor do the keys.
        if child is not None and marker is not None and child.poll() is None:
            stop_all(marker, ws, STOP_STEPS, child)
        if ws is not None:
            shutil.rmtree(ws, ignore_errors=True)


def run_key_of(uri):
    parts = uri.split('/')
    return parts[-2] if len(parts) >= 5 else uri


if __name__ == '__main__':
    try:
        rc = main()
    except Exception:  # a bug here: still end with the exit line, so the ECS runner is not left guessing
        import traceback

        traceback.print_exc()
        rc = RC_SETUP_FAILED
    emit(json.dumps({'event': EXIT_EVENT, 'rc': rc}, separators=(',', ':')))
    sys.exit(rc)
