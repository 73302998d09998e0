/**
 * USB throughput bench (issue 5, must-show 6): ankibridge's MTP get and send of a 200 MB file
 * against libmtp's mtp-getfile / mtp-sendfile, in the same lab guest run (QEMU usb-mtp phone,
 * software emulation). Like for like: file → phone and phone → file, nothing else (libmtp's
 * tools neither hash nor fsync). The rounds alternate who goes first; the best and the median
 * of each are compared (goal: ours / libmtp >= 0.9). Also shown, once: the product's safe write
 * (hash, temporary, read-back, final name) and verified download (hash + fsync).
 *   npx tsx bench/usb.bench.ts [MB] [ROUNDS]
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startLab } from '../test/lab/harness/lab.js';
import { startDriver } from '../test/lab/harness/driver.js';
import { assertLabSafeSize, plugAndOpen, unplugAndWait } from '../test/lab/support.js';

const size = assertLabSafeSize(Math.round(Number(process.argv[2] ?? 200) * 1_000_000));
const rounds = Math.max(1, Number(process.argv[3] ?? 3));
const mb = size / 1e6;
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const loadBefore = load();
const lab = await startLab({ memMiB: 3072 });
try {
  const driver = await startDriver(lab);
  const dir = lab.phoneDir('bench');
  await lab.run(`head -c ${size} /dev/urandom > /tmp/bench-src.bin && cp /tmp/bench-src.bin /tmp/libmtp-up.bin && sync`, { timeoutMs: 300_000 });
  const srcSha = await driver.value<string>('local.sha256', { path: '/tmp/bench-src.bin' }, 300_000);
  await plugAndOpen(lab, driver, dir, 'bench');
  await driver.value('mtp.close'); // one program at a time on the MTP interface
  /** Runs `cmd` in the guest after `prep`, timing only `cmd`. */
  const guestMs = async (prep: string, cmd: string): Promise<number> => {
    const out = await lab.run(`${prep}; t0=$(date +%s%N); ${cmd} >/tmp/bench-cmd.log 2>&1; rc=$?; t1=$(date +%s%N); echo "MS $(( (t1 - t0) / 1000000 )) RC $rc"; tail -c 300 /tmp/bench-cmd.log`, { timeoutMs: 900_000 });
    const m = /MS (\d+) RC (\d+)/.exec(out);
    // mtp-sendfile exits 0 even when the send failed: look at what it said
    if (!m || m[2] !== '0' || /Error|No devices/.test(out)) throw new Error(`libmtp command failed: ${cmd}\n${out}`);
    return Number(m[1]);
  };
  const times: Record<'oursSend' | 'oursGet' | 'libSend' | 'libGet', number[]> = { oursSend: [], oursGet: [], libSend: [], libGet: [] };

  const ours = async (r: number): Promise<void> => {
    await driver.value('mtp.open', { serial: 'BENCH' });
    const put = await driver.value<{ ms: number }>('fs.put', { path: `ours-${r}.bin`, from: '/tmp/bench-src.bin' }, 900_000);
    if (sha(join(dir, `ours-${r}.bin`)) !== srcSha) throw new Error('our upload is corrupt');
    const get = await driver.value<{ ms: number; sha256: string }>('fs.get', { path: `ours-${r}.bin`, to: `/tmp/bench-ours-${r}.bin` }, 900_000);
    if (get.sha256 !== srcSha) throw new Error('our download is corrupt');
    await driver.value('mtp.close');
    await lab.run(`rm -f /tmp/bench-ours-${r}.bin`);
    rmSync(join(dir, `ours-${r}.bin`));
    times.oursSend.push(put.ms);
    times.oursGet.push(get.ms);
  };
  // mtp-sendfile names the phone's file after the local one: a fresh name per round
  let libLocal = '/tmp/libmtp-up.bin';
  const libmtp = async (r: number): Promise<void> => {
    const name = `libmtp-${r}.bin`;
    await lab.run(`mv ${libLocal} /tmp/${name}`);
    libLocal = `/tmp/${name}`;
    const sendMs = await guestMs('cd /tmp', `mtp-sendfile /tmp/${name} /`);
    if (sha(join(dir, name)) !== srcSha) throw new Error('libmtp upload is corrupt');
    const getMs = await guestMs(`cd /tmp && id=$(mtp-files 2>/dev/null | grep -B1 "Filename: ${name}" | sed -n "s/File ID: //p") && test -n "$id"`, 'mtp-getfile $id /tmp/bench-libmtp-back.bin');
    const back = (await lab.run('sha256sum /tmp/bench-libmtp-back.bin | cut -d" " -f1 && rm /tmp/bench-libmtp-back.bin', { timeoutMs: 300_000 })).trim();
    if (back !== srcSha) throw new Error('libmtp download is corrupt');
    rmSync(join(dir, name));
    times.libSend.push(sendMs);
    times.libGet.push(getMs);
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await ours(r);
      await libmtp(r);
    } else {
      await libmtp(r);
      await ours(r);
    }
  }

  // the product's paths, once: safe write (copy-verify here: usb-mtp cannot rename) and verified download
  await driver.value('mtp.open', { serial: 'BENCH' });
  const safe = await driver.value<{ ms: number; method: string }>('fs.safeWrite', { path: 'safe.bin', from: '/tmp/bench-src.bin' }, 1_800_000);
  const dl = await driver.value<{ ms: number; sha256: string }>('fs.download', { path: 'safe.bin', to: '/tmp/bench-dl.bin' }, 900_000);
  if (dl.sha256 !== srcSha || sha(join(dir, 'safe.bin')) !== srcSha) throw new Error('safe write or download is corrupt');
  const health = await driver.value<{ maxRssKiB: number }>('health');
  await driver.value('mtp.close');
  await unplugAndWait(lab, driver, 'bench');
  await driver.stop();

  const rate = (ms: number): number => mb / (ms / 1000);
  const best = (v: number[]): number => Math.min(...v);
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] as number;
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2).padStart(6)} s ${rate(ms).toFixed(1).padStart(6)} MB/s`;
  const row = (what: string, o: number[], l: number[]): string =>
    `${what.padEnd(5)} best ${fmt(best(o))} | ${fmt(best(l))} | ratio ${(best(l) / best(o)).toFixed(2)}   median ratio ${(median(l) / median(o)).toFixed(2)}   ` +
    `(ours ${o.map((x) => rate(x).toFixed(0)).join('/')}, libmtp ${l.map((x) => rate(x).toFixed(0)).join('/')} MB/s)`;
  console.log(`USB bench: ${mb} MB over QEMU usb-mtp (TCG), ${rounds} rounds, guest boot ${(lab.bootMs / 1000).toFixed(1)} s`);
  console.log(`host load (1/5/15 min): before ${loadBefore}; after ${load()}`);
  console.log(`           ankibridge                    | libmtp (mtp-sendfile / mtp-getfile) | ours / libmtp`);
  console.log(row('send', times.oursSend, times.libSend));
  console.log(row('get', times.oursGet, times.libGet));
  console.log(`product paths: safe write (${safe.method}: hash, upload, read back, final copy, read back) ${fmt(safe.ms)}; verified download (sha256 + fsync) ${fmt(dl.ms)}`);
  console.log(`ankibridge guest process peak RSS: ${(health.maxRssKiB / 1024).toFixed(0)} MiB`);
} finally {
  await lab.stop();
}
