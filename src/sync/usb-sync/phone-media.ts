/**
 * The media of AnkiDroid's live collection (its `collection.media` folder beside
 * collection.anki2: flat, NFC names — ankidroid-facts §1.3) as a source of files for the desktop
 * replace, which adds them the way Anki's colpkg import does (media-import.ts: same size = the
 * same file, anything else written under a temporary name and renamed; nothing deleted).
 * Each file is streamed from the phone while it is written; an unplug fails the read, and the
 * desktop replace rolls its media step back.
 */
import { PassThrough, type Readable } from 'node:stream';
import { isNormalizedMediaName, type MediaEntryInfo } from '../../apkg/package/index.js';
import type { MediaSource } from '../../apkg/desktop/media-import.js';
import { UsbErrors } from '../../errors/codes/usb.js';
import { joinPhonePath, type DeviceTransport, type Entry } from '../../usb/transport.js';

/** A phone file as a readable stream (back-pressure: the phone waits while the disk is slow). */
export function readStream(t: DeviceTransport, phonePath: string): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  t.read(phonePath, async (chunk) => {
    if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        out.off('close', gone);
        resolve();
      };
      const gone = (): void => {
        out.off('drain', done);
        reject(new Error('the reader went away'));
      };
      out.once('drain', done);
      out.once('close', gone);
    });
  }).then(
    () => out.end(),
    (e: Error) => out.destroy(e),
  );
  return out;
}

/** The files of the phone's media folder `dir` (none when it has no such folder). */
export async function listPhoneMedia(t: DeviceTransport, dir: string): Promise<Entry[]> {
  try {
    return (await t.list(dir)).filter((e) => !e.isFolder && isNormalizedMediaName(e.name));
  } catch (e) {
    if ((e as { code?: string }).code === UsbErrors.NOT_FOUND.code) return [];
    throw e;
  }
}

/** The phone's media folder as a MediaSource (listed now; each file read when it is added). */
export async function phoneMediaSource(t: DeviceTransport, dir: string): Promise<MediaSource> {
  const files = await listPhoneMedia(t, dir);
  const media: MediaEntryInfo[] = files.map((f) => ({ index: f.name, name: f.name, size: f.size }));
  return {
    media,
    openMedia: async (e) => readStream(t, joinPhonePath(dir, e.name)),
  };
}
