// Must-show 5 of issue 7: the rendered autostart definitions are valid for their service managers:
// `systemd-analyze verify` on the user unit, a property list that parses, and task XML with the
// Task Scheduler schema's structure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderService } from '../../src/daemon/service/install.js';
import { BIN_PATH, render, TEMPLATES } from '../../src/daemon/service/render.js';

const dir = mkdtempSync(join(tmpdir(), 'ankibridge-service-test-'));

function python(script: string, file: string): { code: number | null; out: string } {
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`python3 is needed for this test: ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('service definitions', () => {
  it('the systemd user unit passes `systemd-analyze --user verify` with no warning', () => {
    const unit = join(dir, 'ankibridge.service');
    writeFileSync(unit, renderService('linux'));
    const runtime = join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const r = spawnSync('systemd-analyze', ['--user', 'verify', unit], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    expect(r.error, 'systemd-analyze must be installed (Debian package systemd, in .ci/apt-packages.txt)').toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim(), 'no warnings').toBe('');
    expect(r.status).toBe(0);
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(`ExecStart=${process.execPath} --max-semi-space-size=1 ${BIN_PATH} daemon`);
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^NoNewPrivileges=yes$/m);
    // USB access must survive the hardening.
    expect(text).not.toMatch(/^(PrivateDevices=yes|DevicePolicy=strict|DevicePolicy=closed|ProtectHome=yes|MemoryDenyWriteExecute=yes)$/m);
    expect(text).toMatch(/^RestrictAddressFamilies=.*AF_NETLINK/m);
  });

  it('systemd-analyze does catch a broken unit (so the check above means something)', () => {
    const bad = join(dir, 'broken.service');
    writeFileSync(bad, renderService('linux').replace('Restart=on-failure', 'Restart=sometimes'));
    const runtime = join(dir, 'runtime');
    const r = spawnSync('systemd-analyze', ['--user', 'verify', bad], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    expect(`${r.stdout}${r.stderr}`).toMatch(/Failed to parse service restart specifier/);
  });

  it('paths with spaces and % are quoted for systemd', () => {
    const text = render('ExecStart={{NODE}} {{BIN}} daemon', { NODE: '/opt/my node/node', BIN: '/x/100%/a.js', HOME: '/h', LOG_DIR: '/l', USER: 'u' }, 'systemd');
    expect(text).toBe('ExecStart="/opt/my node/node" /x/100%%/a.js daemon');
  });

  it('the LaunchAgent is a property list (python3 plistlib) with the program, KeepAlive on failure and background priority', () => {
    const file = join(dir, 'org.ankibridge.daemon.plist');
    writeFileSync(file, renderService('darwin'));
    const r = python(
      'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))',
      file,
    );
    expect(r.code, r.out).toBe(0);
    const plist = JSON.parse(r.out) as Record<string, unknown>;
    expect(plist).toMatchObject({
      Label: 'org.ankibridge.daemon',
      ProgramArguments: [process.execPath, '--max-semi-space-size=1', BIN_PATH, 'daemon'],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ProcessType: 'Background',
      LowPriorityIO: true,
    });
  });

  it('the Windows task is well-formed XML with the task schema structure (logon trigger, least privilege, exec action)', () => {
    const file = join(dir, 'task.xml');
    writeFileSync(file, renderService('win32').replace('{{', ''));
    const script = `
import sys, json, re, xml.etree.ElementTree as ET
ns = '{http://schemas.microsoft.com/windows/2004/02/mit/task}'
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + 'Task', root.tag
assert root.get('version') == '1.2'
children = [c.tag[len(ns):] for c in root]
allowed = {'RegistrationInfo', 'Triggers', 'Settings', 'Data', 'Principals', 'Actions'}
assert set(children) <= allowed and len(children) == len(set(children)), children
for required in ('Settings', 'Actions'):
    assert required in children, required
logon = root.find(ns + 'Triggers/' + ns + 'LogonTrigger')
assert logon is not None and logon.find(ns + 'Enabled').text == 'true'
p = root.find(ns + 'Principals/' + ns + 'Principal')
assert p.find(ns + 'LogonType').text == 'InteractiveToken' and p.find(ns + 'RunLevel').text == 'LeastPrivilege'
s = root.find(ns + 'Settings')
iso = re.compile(r'^P(?!$)(\\d+Y)?(\\d+M)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$')
assert iso.match(s.find(ns + 'ExecutionTimeLimit').text)
assert iso.match(s.find(ns + 'RestartOnFailure/' + ns + 'Interval').text)
assert s.find(ns + 'MultipleInstancesPolicy').text in ('Parallel', 'Queue', 'IgnoreNew', 'StopExisting')
assert 0 <= int(s.find(ns + 'Priority').text) <= 10
actions = root.find(ns + 'Actions')
exe = actions.find(ns + 'Exec')
print(json.dumps({'command': exe.find(ns + 'Command').text, 'arguments': exe.find(ns + 'Arguments').text, 'context': actions.get('Context'), 'principal': p.get('id')}))
`;
    const r = python(script, file);
    expect(r.code, r.out).toBe(0);
    const out = JSON.parse(r.out) as Record<string, string>;
    expect(out).toEqual({ command: process.execPath, arguments: `--max-semi-space-size=1 "${BIN_PATH}" daemon`, context: 'Author', principal: 'Author' });
  });

  it('the udev rule only tags Android (MTP/ADB) devices for the seat user', () => {
    const rule = readFileSync(TEMPLATES.udevRule, 'utf8');
    const lines = rule.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    for (const l of lines) expect(l, l).toMatch(/^(ACTION|SUBSYSTEM|ENV|ATTR|LABEL)[^=]*/);
    expect(lines.filter((l) => l.includes('TAG+="uaccess"')).length).toBeGreaterThan(5);
    expect(rule).not.toMatch(/MODE="0666"/);
    expect(rule).toContain('*:ff4201:*');
    expect(rule).toContain('*:060101:*');
  });
});
