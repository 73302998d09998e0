"""Runs a command on a pseudo-terminal, answering prompts, as a person at a terminal would.

stdin: JSON {"argv": [...], "env": {...}, "steps": [["text to wait for", "text to type"], ...],
"timeout": seconds}. stdout: JSON {"status": exit status, "transcript": everything the terminal
showed}. What a program echoes is in the transcript, so a test can check a password was not."""
import json, os, pty, select, sys, time

req = json.load(sys.stdin)
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(req["argv"][0], req["argv"], req["env"])
out = b""
deadline = time.time() + float(req.get("timeout", 30))
steps = list(req["steps"])

def read_some(wait):
    global out
    r, _, _ = select.select([fd], [], [], wait)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True

alive = True
pos = 0  # each prompt is looked for after the previous one
while alive and time.time() < deadline:
    at = out.find(steps[0][0].encode(), pos) if steps else -1
    if at >= 0:
        pos = at + len(steps[0][0].encode())
        time.sleep(0.05)
        os.write(fd, steps.pop(0)[1].encode())
        continue
    alive = read_some(0.1)
status = None
end = time.time() + 10
while time.time() < end:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
    read_some(0.05)
if status is None:
    os.kill(pid, 9)
json.dump({"status": status, "transcript": out.decode("utf8", "replace"), "unanswered": [s[0] for s in steps]}, sys.stdout)
