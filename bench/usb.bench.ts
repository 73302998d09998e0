/**
 * USB throughput bench (issue 5, must-show 6): ankibridge's MTP get and send of a 200 MB file
 * against libmtp's mtp-getfile / mtp-sendfile, in the same lab guest run (QEMU usb-mtp phone,
 * software emulation). Prints MB/s side by side and the ratio ours / libmtp (goal >= 0.9).
 *   npx tsx bench/usb.bench.ts [MB]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab } from '../test/lab/harness/lab.js';
import { startDriver } from '../test/lab/harness/driver.js';
import { assertLabSafeSize, plugAndOpen, unplugAndWait } from '../test/lab/support.js';

const size = assertLabSafeSize(Math.round(Number(process.argv[2] ?? 200) * 1_000_000));
const mb = size / 1e6;
const lab = await startLab({ memMiB: 3072 });
try {
  const driver = await startDriver(lab);
  const dir = lab.phoneDir('bench');
  await lab.run(`head -c ${size} /dev/urandom > /tmp/bench-src.bin && cp /tmp/bench-src.bin /tmp/libmtp-up.bin && sync`, { timeoutMs: 300_000 });
  const srcSha = await driver.value<string>('local.sha256', { path: '/tmp/bench-src.bin' }, 300_000);
  await plugAndOpen(lab, driver, dir, 'bench');
  const guestMs = async (cmd: string): Promise<number> => {
    const out = await lab.run(`t0=$(date +%s%N); ${cmd} >/tmp/bench-cmd.log 2>&1; rc=$?; t1=$(date +%s%N); cat /tmp/bench-cmd.log | tail -2; echo "MS $(( (t1 - t0) / 1000000 )) RC $rc"`, { timeoutMs: 900_000 });
    const m = /MS (\d+) RC (\d+)/.exec(out);
    if (!m || m[2] !== '0' || /Error/.test(out)) throw new Error(`libmtp command failed: ${cmd}\n${out}`);
    return Number(m[1]);
  };

  // ours: send (SendObjectInfo + SendObject), then get (streamed to a local file, fsync, sha256)
  const put = await driver.value<{ ms: number }>('fs.put', { path: 'ours.bin', from: '/tmp/bench-src.bin' }, 900_000);
  const phoneSha = createHash('sha256').update(readFileSync(join(dir, 'ours.bin'))).digest('hex');
  if (phoneSha !== srcSha) throw new Error('our upload is corrupt');
  const get = await driver.value<{ ms: number; sha256: string }>('fs.download', { path: 'ours.bin', to: '/tmp/bench-ours-back.bin' }, 900_000);
  if (get.sha256 !== srcSha) throw new Error('our download is corrupt');
  const health = await driver.value<{ maxRssKiB: number }>('health');
  await driver.value('mtp.close');

  // libmtp in the same guest, same phone
  const sendMs = await guestMs('cd /tmp && mtp-sendfile /tmp/libmtp-up.bin /');
  const getMs = await guestMs('cd /tmp && id=$(mtp-files 2>/dev/null | grep -B1 "Filename: ours.bin" | sed -n "s/File ID: //p") && mtp-getfile $id /tmp/bench-libmtp-back.bin');
  const libSha = (await lab.run('sha256sum /tmp/bench-libmtp-back.bin | cut -d" " -f1', { timeoutMs: 300_000 })).trim();
  if (libSha !== srcSha) throw new Error('libmtp download is corrupt');
  await unplugAndWait(lab, driver, 'bench');
  await driver.stop();

  const rate = (ms: number): number => mb / (ms / 1000);
  const row = (what: string, ours: number, theirs: number): string =>
    `${what.padEnd(6)} ${(ours / 1000).toFixed(2).padStart(8)} s ${rate(ours).toFixed(1).padStart(7)} MB/s | ${(theirs / 1000).toFixed(2).padStart(8)} s ${rate(theirs).toFixed(1).padStart(7)} MB/s | ratio ${(rate(ours) / rate(theirs)).toFixed(2)}`;
  console.log(`USB bench: ${mb} MB over QEMU usb-mtp (TCG), guest boot ${(lab.bootMs / 1000).toFixed(1)} s`);
  console.log(`       ankibridge                  | libmtp (mtp-*file)           | ours/libmtp`);
  console.log(row('send', put.ms, sendMs));
  console.log(row('get', get.ms, getMs));
  console.log(`ankibridge guest process peak RSS: ${(health.maxRssKiB / 1024).toFixed(0)} MiB`);
} finally {
  await lab.stop();
}
