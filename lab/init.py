#!/usr/bin/python3
"""PID 1 of a lab host (installed as /opt/labsvc/sbin/init, so `ps` shows `init`).

Starts sshd and supervisord, reaps every orphaned process as soon as it exits (as systemd or tini
would: supervisord as PID 1 left killed processes as zombies for a second or more, which `ps`
still lists with their CPU use), restarts sshd if it dies, and ends the host - every process in its
PID namespace - when supervisord ends or on SIGTERM. Uses the Python 3 that supervisor needs anyway.
"""
import os
import signal
import sys
import time

SSHD = ["/usr/sbin/sshd", "-D", "-f", "/etc/ssh/sshd_config", "-E", "/var/log/supervisor/sshd.log"]
SUPERVISORD = ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]


def log(message):
    sys.stderr.write("init: %s\n" % message)
    sys.stderr.flush()


def spawn(argv):
    pid = os.fork()
    if pid == 0:
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            os.setsid()
            os.execv(argv[0], argv)
        except BaseException as err:  # noqa: BLE001 - the child must never return into the loop
            log("cannot start %s: %s" % (argv[0], err))
        os._exit(127)
    return pid


stopping = False
children = {}


def on_term(signum, _frame):
    global stopping
    stopping = True
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

children[spawn(SSHD)] = "sshd"
children[spawn(SUPERVISORD)] = "supervisord"

while True:
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    name = children.pop(pid, None)
    if name == "supervisord":
        log("supervisord exited (status %d): stopping the host" % status)
        break
    if name == "sshd" and not stopping:
        log("sshd exited (status %d): restarting it" % status)
        time.sleep(1)
        children[spawn(SSHD)] = "sshd"
sys.exit(0)
