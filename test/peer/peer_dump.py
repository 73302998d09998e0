"""Canonical dump of an Anki collection, read through real Anki.

Every list is sorted (by id, or by name/key), every object's keys are sorted (json.dumps with
sort_keys on the TypeScript side is not needed: Python dicts are emitted sorted here), so two
collections compare with a deep-equal.

With ignore_sync=True the dump leaves out what a sync or an import changes by itself, so a
collection and its copy after a real round trip (export/import, sync) compare equal. Each
exclusion and its reason:

- usn everywhere (col, notes, cards, revlog, decks, deck configs, note types, tags, config,
  graves) and col.ls: sync bookkeeping by definition (-1 = "changed locally"; after a sync the
  server's counter; ls = time of the last sync).
- col.mod: every committed change bumps it, a colpkg import sets it to "now", and a sync sets it
  to the server's value.
- col.scm: a colpkg import sets it to "now" (so the next sync is a full one); a full upload
  bumps it too (`before_upload`).
- col.dty (always 0 in schema 18) and col.ver: ver is the schema version; a legacy (schema 11)
  copy is upgraded to 18 when Anki opens it, so the version says how a file was stored, not
  what it holds. The dump always reads through Anki (upgraded), so both sides see the same rows.
- config "mtime" and "usn" of each key (configMeta): bumped when a sync or import rewrites a key.
- graves: deletion records exist only to be sent by the next sync; a sync or a full sync clears
  them, an import never carries them.
- media "mtime" is never dumped (file times are not content).
- configuration keys that Anki rewrites by itself on sync/import (VOLATILE_CONFIG): none seen so
  far with anki 26.9.3 (colpkg latest/legacy round trips and normal/full syncs compare equal).

Observed with anki 26.9.3 (so not excluded): opening a schema 11 or 16 file upgrades it to 18
deterministically: two copies opened at different times dump identically (decks, note types,
deck configs keep their mod times). Importing the same colpkg twice differs only in col.mod and
col.scm. Anki's Check Database (the peer's `check`) does change data: e.g. it resets config
`nextPos` when no new cards remain, so compare before checking or check both sides.
An .apkg is not comparable field by field after a merge import (deck ids re-mapped by name,
card due days re-based on the target's crt, the target's own stock note types stay); to get
"Anki's own dump" of the collection inside any package, import it with kind 'colpkg' (replace),
which reads every package version.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any

# Config keys Anki maintains by itself (not user data) and that legitimately differ between a
# collection and its faithful copy. Filled from observation of real round trips (peer tests).
VOLATILE_CONFIG: set[str] = set()


def _sorted(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


def _drop_usn(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in ("usn",)}


def media_list(media_dir: str) -> list[dict[str, Any]]:
    out = []
    if not os.path.isdir(media_dir):
        return out
    for name in os.listdir(media_dir):
        p = os.path.join(media_dir, name)
        if not os.path.isfile(p):
            continue  # Anki ignores subfolders
        h = hashlib.sha1()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out.append({"name": name, "sha1": h.hexdigest(), "size": os.path.getsize(p)})
    out.sort(key=lambda m: m["name"])
    return out


def dump_collection(col: Any, ignore_sync: bool, media_dir: str) -> dict[str, Any]:
    db = col.db
    crt, mod, scm, ver, dty, usn, ls = db.first("select crt, mod, scm, ver, dty, usn, ls from col")
    colrow = {"crt": crt, "mod": mod, "scm": scm, "ver": ver, "dty": dty, "usn": usn, "ls": ls}

    notes = [
        {"id": r[0], "guid": r[1], "mid": r[2], "mod": r[3], "usn": r[4],
         "tags": r[5].split(), "fields": r[6].split("\x1f"), "sfld": str(r[7]), "csum": r[8],
         "flags": r[9], "data": r[10]}
        for r in db.all("select id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data from notes order by id")
    ]
    card_cols = ["id", "nid", "did", "ord", "mod", "usn", "type", "queue", "due", "ivl", "factor",
                 "reps", "lapses", "left", "odue", "odid", "flags", "data"]
    cards = [dict(zip(card_cols, r)) for r in db.all(f"select {', '.join(card_cols)} from cards order by id")]
    rev_cols = ["id", "cid", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type"]
    revlog = [dict(zip(rev_cols, r)) for r in db.all(f"select {', '.join(rev_cols)} from revlog order by id")]
    decks = sorted(col.decks.all(), key=lambda d: d["id"])
    dconfs = sorted(col.decks.all_config(), key=lambda d: d["id"])
    notetypes = sorted(col.models.all(), key=lambda m: m["id"])
    tags = [{"tag": r[0], "usn": r[1], "collapsed": bool(r[2]), "config": (r[3].hex() if r[3] else None)}
            for r in db.all("select tag, usn, collapsed, config from tags order by tag")]
    config: dict[str, Any] = {}
    config_meta: dict[str, Any] = {}
    for key, cusn, mtime, val in db.all("select key, usn, mtime_secs, val from config order by key"):
        if ignore_sync and key in VOLATILE_CONFIG:
            continue
        config[key] = json.loads(bytes(val)) if val else None
        config_meta[key] = {"usn": cusn, "mtime": mtime}
    graves = [{"oid": r[0], "type": r[1], "usn": r[2]}
              for r in db.all("select oid, type, usn from graves order by type, oid")]

    out: dict[str, Any] = {
        "col": colrow, "notes": notes, "cards": cards, "revlog": revlog, "decks": decks,
        "deckConfigs": dconfs, "noteTypes": notetypes, "tags": tags, "config": config,
        "configMeta": config_meta, "graves": graves, "media": media_list(media_dir),
    }
    if ignore_sync:
        out["col"] = {"crt": crt}
        for key in ("notes", "cards", "revlog", "decks", "deckConfigs", "noteTypes", "tags"):
            out[key] = [_drop_usn(x) for x in out[key]]
        del out["configMeta"]
        del out["graves"]
    return _sorted(out)
