#!/usr/bin/env python3
"""The Anki test peer: real Anki (PyPI "anki", the Rust core of Anki Desktop and AnkiDroid)
driven over JSON lines.

One long-lived process. Each stdin line is a request {"id", "cmd", "args"}; each answer is one
stdout line {"id", "ok": true, "result"} or {"id", "ok": false, "error": {"type", "message"}}.
A failing command answers ok:false and the process keeps serving. Every command opens the
collection it names and closes it again, except `hold` (kept open until `release`).

Only the protocol goes to stdout: fd 1 is redirected to stderr at start, so stray prints from
Python or the Rust backend can never corrupt the stream.

The contract (what the TypeScript side expects) is test/peer/peer.ts; this file is its server.
"""
from __future__ import annotations

import base64
import json
import os
import random
import sys
import time
import traceback
from typing import Any, Callable

# --- protocol stream: keep the real stdout for answers, send everything else to stderr ------
_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

from anki.collection import Collection  # noqa: E402  (after the fd juggling on purpose)
from anki.collection import AddNoteRequest, DeckIdLimit  # noqa: E402
from anki import import_export_pb2, sync_pb2  # noqa: E402
from anki._backend import RustBackend  # noqa: E402
from anki.media import media_paths_from_col_path  # noqa: E402

from peer_dump import dump_collection  # noqa: E402


class PeerError(Exception):
    """An error with a stable type name for the TypeScript side (error.type)."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_


class Args(dict):
    """Request arguments: a missing required one is a BadArgs error naming it."""

    def __missing__(self, key: str) -> Any:
        raise PeerError("BadArgs", f"missing argument '{key}'")


NOTE_TYPES = {
    "basic": "Basic",
    "reversed": "Basic (and reversed card)",
    "cloze": "Cloze",
}
TAG_POOL = ["vocab", "grammar", "geo", "hist::ancient", "hist::modern", "leech", "marked", "bio"]
WORDS = (
    "alpha beta gamma delta river mountain cloud stone bread apple window garden silver "
    "paper candle forest island harbor meadow thunder violet copper maple orbit prism"
).split()
DAY_MS = 86_400_000

held: dict[str, Collection] = {}


# --- helpers ------------------------------------------------------------------------------------

def col_path(args: dict[str, Any], key: str = "path") -> str:
    p = args.get(key)
    if not isinstance(p, str) or not p:
        raise PeerError("BadArgs", f"'{key}' must be a non-empty path")
    p = os.path.abspath(p)
    if not p.endswith(".anki2"):
        # Anki derives the media folder by replacing ".anki2" with ".media"; any other name
        # would make the media folder the collection file itself.
        raise PeerError("BadArgs", f"collection path must end in .anki2: {p}")
    return p


def open_col(path: str, must_exist: bool = True) -> Collection:
    if path in held:
        raise PeerError("Held", f"{path} is already held by this peer")
    if must_exist and not os.path.exists(path):
        raise PeerError("NotFound", f"no collection at {path}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return Collection(path)


def with_col(path: str, fn: Callable[[Collection], Any], must_exist: bool = True) -> Any:
    """Runs fn on the collection: the held one if `hold` keeps it open (as a running Anki Desktop
    works on its open collection, changes then sit in the WAL), else opened and closed here."""
    if path in held:
        return fn(held[path])
    col = open_col(path, must_exist)
    try:
        return fn(col)
    finally:
        if col.db:
            col.close()


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def note_fields(rng: random.Random, kind: str, i: int, media_ref: str) -> list[str]:
    if kind == "cloze":
        return [f"{words(rng, 2)} {{{{c1::{words(rng, 1)}}}}} {words(rng, 2)} "
                f"{{{{c2::{words(rng, 1)}}}}} #{i}{media_ref}", words(rng, 3)]
    return [f"{words(rng, 3)} #{i}{media_ref}", words(rng, 4)]


def ensure_deck(col: Collection, name: str) -> int:
    return int(col.decks.id(name, create=True))


def add_notes(col: Collection, rng: random.Random, count: int, kinds: list[str],
              deck_ids: list[int], tags_fixed: list[str] | None, start_index: int,
              media_names: list[str] | None = None) -> list[int]:
    models = {k: col.models.by_name(NOTE_TYPES[k]) for k in kinds}
    requests = []
    media_names = media_names or []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        ref = ""
        if i < len(media_names):
            name = media_names[i]
            ref = f"[sound:{name}]" if name.endswith(".mp3") else f'<img src="{name}">'
        note = col.new_note(models[kind])
        for fi, value in enumerate(note_fields(rng, kind, start_index + i, ref)):
            note.fields[fi] = value
        if tags_fixed is not None:
            note.tags = list(tags_fixed)
        else:
            note.tags = rng.sample(TAG_POOL, rng.randint(0, 2))
        requests.append(AddNoteRequest(note=note, deck_id=deck_ids[i % len(deck_ids)]))
    # add in batches: one transaction per batch keeps memory flat for 50k notes
    ids: list[int] = []
    for b in range(0, len(requests), 2000):
        batch = requests[b:b + 2000]
        col.add_notes(batch)
        ids.extend(int(r.note.id) for r in batch)
    return ids


def write_media(col: Collection, rng: random.Random, count: int, bytes_each: int) -> list[str]:
    """Real files in collection.media (written directly, as a user copying files would; Anki
    registers them on its next media scan, which export and media sync both run)."""
    folder = col.media.dir()
    names = []
    if count <= 0:
        return names
    # Incompressible like real jpg/mp3, but fast (1 GB in seconds, not the ~30 s of drawing every
    # byte from the rng): each file is a window into one seeded random pool, at a random offset.
    # The pool is at least as large as a file (up to 64 MB), so no file repeats itself.
    pool = rng.randbytes(max(4 << 20, min(bytes_each, 64 << 20)))
    doubled = pool + pool
    for i in range(count):
        ext = "mp3" if i % 3 == 2 else "jpg"
        name = f"peer-media-{i:05d}.{ext}"
        head = f"{name}\n".encode()  # distinct content per file, so the sha1s differ
        with open(os.path.join(folder, name), "wb") as f:
            f.write(head[:bytes_each])
            left = bytes_each - len(head)
            off = rng.randrange(len(pool))
            while left > 0:
                chunk = doubled[off:off + min(left, len(pool))]
                f.write(chunk)
                left -= len(chunk)
                off = 0
        names.append(name)
    return names


def synthesize_history(col: Collection, rng: random.Random, reviews_per_card: int,
                       days: int, total: int | None = None) -> int:
    """Review history written straight into revlog (executemany) with card state made
    consistent with it, because answering 300k cards through the scheduler takes far too long
    for benchmarks. Every card gets `reviews_per_card` reviews spread over the past `days` days:
    the first a learning step, the rest reviews with growing intervals; an Again is a lapse. The
    card ends as a review card due after its last interval (days counted from col.crt, which is
    moved back so that the history lies after the collection's creation). Anki's own Check
    Database accepts the result (asserted by the peer tests)."""
    cards = col.db.all("select id from cards order by id")
    if total is not None and cards:
        # a total instead of a per-card count: spread evenly, the remainder to the first cards
        per = [total // len(cards) + (1 if i < total % len(cards) else 0) for i in range(len(cards))]
    else:
        per = [max(0, reviews_per_card)] * len(cards)
    if sum(per) == 0:
        return 0
    now_ms = int(time.time() * 1000)
    crt = int(col.crt)
    start_ms = now_ms - days * DAY_MS
    if crt * 1000 > start_ms:
        crt = crt - ((crt * 1000 - start_ms) // DAY_MS + 1) * 86400
        col.db.execute("update col set crt = ?", crt)
    used: set[int] = set()
    rev_rows = []
    card_rows = []
    span = max(1, days * DAY_MS - 60_000)
    mod_s = now_ms // 1000
    for (cid,), k in zip(cards, per):
        if k == 0:
            continue
        times = sorted(start_ms + rng.randrange(span) for _ in range(k))
        ivl = 0
        factor = 2500
        lapses = 0
        for n, t in enumerate(times):
            while t in used:
                t += 1
            used.add(t)
            if n == 0:
                ease, rtype, new_ivl = rng.choice([1, 3, 3, 4]), 0, 1
            else:
                ease = rng.choices([1, 2, 3, 4], weights=[10, 15, 60, 15])[0]
                rtype = 1
                if ease == 1:
                    lapses += 1
                    factor = max(1300, factor - 200)
                    new_ivl = 1
                else:
                    new_ivl = max(1, int(ivl * {2: 1.2, 3: factor / 1000, 4: factor / 1000 * 1.3}[ease]) + 1)
                    if ease == 2:
                        factor = max(1300, factor - 150)
                    elif ease == 4:
                        factor += 150
            rev_rows.append((t, cid, -1, ease, new_ivl, ivl, factor if rtype else 0,
                             rng.randint(1500, 20000), rtype))
            ivl = new_ivl
        last_day = (times[-1] // 1000 - crt) // 86400
        due = last_day + ivl
        # data.lrt = last review time (s); Check Database adds it when missing
        data = json.dumps({"lrt": times[-1] // 1000}, separators=(",", ":"))
        card_rows.append((mod_s, due, ivl, factor, k, lapses, data, cid))
    # one explicit transaction: without it every row commits on its own (12x slower)
    col._backend.db_begin()
    try:
        write_history(col, rev_rows, card_rows, now_ms)
        col._backend.db_commit()
    except BaseException:
        col._backend.db_rollback()
        raise
    return len(rev_rows)


def write_history(col: Collection, rev_rows: list, card_rows: list, now_ms: int) -> None:
    col.db.executemany(
        "insert into revlog (id,cid,usn,ease,ivl,lastIvl,factor,time,type) values (?,?,?,?,?,?,?,?,?)",
        rev_rows)
    col.db.executemany(
        "update cards set type=2, queue=2, mod=?, usn=-1, due=?, ivl=?, factor=?, reps=?, lapses=?, left=0, data=? where id=?",
        card_rows)
    col.db.execute("update col set mod = ?", now_ms)


# --- commands -----------------------------------------------------------------------------------

def cmd_freeze_clock(args: dict[str, Any]) -> Any:
    """Fake clock only (added by the merge engineer: same-second edits on both clients by
    design instead of by luck).
    `at` (epoch seconds, a ms fraction allowed): stop the clock there (libfaketime's absolute
    form, read on every call); everything Anki stamps until the next call has exactly that time
    (ids that must differ are still made unique by Anki).
    `at` null: run again at real time plus the advanceClock offset, and from `notBefore`
    (epoch seconds) at the earliest: the offset grows if needed, the clock never goes back."""
    global clock_offset
    if not CLOCK_FILE:
        raise PeerError("BadArgs", "freezeClock needs AnkiPeer.start({ fakeClock: true })")

    def write(text: str) -> None:
        with open(CLOCK_FILE, "w") as f:
            f.write(text + "\n")

    at = args.get("at")
    if at is None:
        write(f"+{clock_offset:.3f}s")
        behind = float(args.get("notBefore") or 0) - time.time()
        if behind > 0:
            clock_offset += behind
            write(f"+{clock_offset:.3f}s")
    else:
        # libfaketime reads the absolute form as local time (mktime), as localtime writes it
        whole = int(float(at) // 1)
        ms = int(round((float(at) - whole) * 1000))
        write(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(whole)) + f".{ms:03d}")
    return {"now": time.time()}


def cmd_ping(args: dict[str, Any]) -> Any:
    import anki.buildinfo
    return {"pong": True, "anki": anki.buildinfo.version, "pid": os.getpid(), "now": time.time(),
            "fakeClock": bool(CLOCK_FILE), "clockOffset": clock_offset,
            # CPU seconds of this whole process (all threads, Anki's Rust ones too): benches
            # compare Anki's client with ours on CPU, which load does not distort
            "cpu": time.process_time()}


def cmd_create_collection(args: dict[str, Any]) -> Any:
    path = col_path(args)
    if os.path.exists(path):
        raise PeerError("Exists", f"{path} already exists; createCollection makes a new one")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    n_notes = int(args.get("notes", 0))
    seed = int(args.get("seed", 0))
    rng = random.Random(seed)
    kinds = args.get("noteTypes") or ["basic", "reversed", "cloze"]
    for k in kinds:
        if k not in NOTE_TYPES:
            raise PeerError("BadArgs", f"unknown note type '{k}' (basic, reversed, cloze)")
    n_decks = max(1, int(args.get("decks", 3)))
    reviews = int(args.get("reviewsPerCard", 0))
    total_reviews = int(args["reviews"]) if args.get("reviews") is not None else None
    days = max(1, int(args.get("days", 30)))
    media = args.get("media") or {"count": 0, "bytesEach": 0}

    def run(col: Collection) -> Any:
        deck_ids = [1]  # the Default deck takes part too
        for d in range(1, n_decks):
            name = f"Peer Deck {d}" if d % 3 else f"Peer Deck {d - 1}::Sub {d}"
            deck_ids.append(ensure_deck(col, name))
        media_names = write_media(col, rng, int(media.get("count", 0)), int(media.get("bytesEach", 0)))
        add_notes(col, rng, n_notes, kinds, deck_ids, None, 0, media_names)
        revs = synthesize_history(col, rng, reviews, days, total_reviews)
        cards = col.card_count()
        return {"path": path, "notes": col.note_count(), "cards": cards, "revlog": revs,
                "decks": len(col.decks.all_names_and_ids()), "media": len(media_names)}

    return with_col(path, run, must_exist=False)


def op_review(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    count = int(op.get("count", 1))
    done = 0
    while done < count:
        card = col.sched.getCard()
        if card is None:
            raise PeerError("NothingDue", f"only {done} of {count} cards were due or new")
        ease = int(op.get("ease") or rng.choices([1, 2, 3, 4], weights=[15, 15, 55, 15])[0])
        col.sched.answerCard(card, ease)
        done += 1


def op_review_card(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    card = col.get_card(int(op["cardId"]))
    card.start_timer()
    col.sched.answerCard(card, int(op["ease"]))


def op_edit_note(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    note = col.get_note(int(op["noteId"]))
    field = int(op["field"])
    if not 0 <= field < len(note.fields):
        raise PeerError("BadArgs", f"note {note.id} has {len(note.fields)} fields, no field {field}")
    note.fields[field] = str(op["value"])
    col.update_note(note)


def op_add_notes(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    kind = op.get("noteType", "basic")
    if kind not in NOTE_TYPES:
        raise PeerError("BadArgs", f"unknown note type '{kind}'")
    did = ensure_deck(col, op["deck"]) if op.get("deck") else 1
    start = col.note_count()
    add_notes(col, rng, int(op.get("count", 1)), [kind], [did], op.get("tags"), start)


def op_delete_notes(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.remove_notes([int(n) for n in op["noteIds"]])


def deck_id_named(col: Collection, name: str) -> int:
    did = col.decks.id_for_name(name)
    if did is None:
        raise PeerError("NotFound", f"no deck named '{name}'")
    return int(did)


def op_rename_deck(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.decks.rename(deck_id_named(col, op["from"]), op["to"])


def op_add_deck(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.decks.add_normal_deck_with_name(op["name"])


def op_delete_deck(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.decks.remove([deck_id_named(col, op["name"])])


def op_tag(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    nids = [int(n) for n in op["noteIds"]]
    if op.get("add"):
        col.tags.bulk_add(nids, " ".join(op["add"]))
    if op.get("remove"):
        col.tags.bulk_remove(nids, " ".join(op["remove"]))


def op_add_media(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    name = op["name"]
    got = col.media.write_data(name, base64.b64decode(op["base64"]))
    if got != name:
        raise PeerError("MediaRenamed", f"Anki stored '{name}' as '{got}' (name taken or unsafe)")


def op_remove_media(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    if not os.path.exists(os.path.join(col.media.dir(), op["name"])):
        raise PeerError("NotFound", f"no media file '{op['name']}'")
    col.media.trash_files([op["name"]])


def op_change_schema(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    # Adding a field to a note type is a schema change: Anki bumps scm (next sync is full).
    model = col.models.by_name("Basic")
    existing = {f["name"] for f in model["flds"]}
    n = 1
    while f"Extra {n}" in existing:
        n += 1
    col.models.add_field(model, col.models.new_field(f"Extra {n}"))
    col.models.update_dict(model)


def op_set_config(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.set_config(op["key"], op["value"])


def op_edit_deck_config(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    conf = col.decks.get_config(int(op["id"]))
    if conf is None:
        raise PeerError("NotFound", f"no deck config {op['id']}")
    conf["new"]["perDay"] = int(op["newPerDay"])
    col.decks.update_config(conf)


def op_suspend(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    col.sched.suspend_cards([int(c) for c in op["cardIds"]])


# With a fake clock (AnkiPeer.start({ fakeClock: true })) this process runs under libfaketime
# (LD_PRELOAD, no caching): Python and Anki's Rust core read their time through it, and the
# offset in this control file moves their clock forward at once.
CLOCK_FILE = os.environ.get("ANKIBRIDGE_PEER_CLOCK_FILE")
# where the fake clock starts, ahead of the real time (AnkiPeer.start({ clockOffset }))
clock_offset = float(os.environ.get("ANKIBRIDGE_PEER_CLOCK_OFFSET") or 0) if CLOCK_FILE else 0.0


def op_advance_clock(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    global clock_offset
    secs = float(op["seconds"])
    if secs < 0:
        raise PeerError("BadArgs", "advanceClock only moves forward")
    if CLOCK_FILE:
        clock_offset += secs
        with open(CLOCK_FILE, "w") as f:
            f.write(f"+{clock_offset:.3f}s\n")
        return
    # Real clock: Anki's backend reads the system clock, so the honest way to make later edits
    # carry later mod times (seconds resolution for notes/cards) is to let time pass.
    if secs > 10:
        raise PeerError("BadArgs", "advanceClock on the real clock sleeps: at most 10 s; "
                        "start the peer with { fakeClock: true } (libfaketime) for larger jumps")
    time.sleep(secs)


def op_edit_note_type(col: Collection, op: dict[str, Any], rng: random.Random) -> None:
    # Added by the merge engineer: a note type edit that is NOT a schema change (styling and the
    # first template's front side), so a normal sync carries it.
    kind = op.get("noteType", "basic")
    if kind not in NOTE_TYPES:
        raise PeerError("BadArgs", f"unknown note type '{kind}'")
    model = col.models.by_name(NOTE_TYPES[kind])
    if "css" in op:
        model["css"] = str(op["css"])
    if "qfmt" in op:
        model["tmpls"][0]["qfmt"] = str(op["qfmt"])
    col.models.update_dict(model)


OPS: dict[str, Callable[[Collection, dict[str, Any], random.Random], None]] = {
    "review": op_review, "reviewCard": op_review_card, "editNote": op_edit_note,
    "addNotes": op_add_notes, "deleteNotes": op_delete_notes, "renameDeck": op_rename_deck,
    "addDeck": op_add_deck, "deleteDeck": op_delete_deck, "tag": op_tag,
    "addMedia": op_add_media, "removeMedia": op_remove_media, "changeSchema": op_change_schema,
    "setConfig": op_set_config, "editDeckConfig": op_edit_deck_config, "suspend": op_suspend,
    "advanceClock": op_advance_clock,
    "editNoteType": op_edit_note_type,
}


def cmd_modify(args: dict[str, Any]) -> Any:
    path = col_path(args)
    ops = args.get("ops")
    if not isinstance(ops, list):
        raise PeerError("BadArgs", "'ops' must be a list")
    for o in ops:
        if not isinstance(o, dict) or o.get("op") not in OPS:
            raise PeerError("BadArgs", f"unknown op {o!r}; known: {', '.join(OPS)}")
    rng = random.Random(int(args.get("seed", 0)))

    def run(col: Collection) -> Any:
        for i, o in enumerate(ops):
            try:
                OPS[o["op"]](col, Args(o), rng)
            except PeerError as e:
                raise PeerError(e.type, f"op {i} ({o['op']}): {e}") from e
            except Exception as e:  # name the op that failed
                raise PeerError(type(e).__name__, f"op {i} ({o['op']}): {e}") from e
        return {"applied": len(ops)}

    return with_col(path, run)


def cmd_export_package(args: dict[str, Any]) -> Any:
    path = col_path(args)
    out = os.path.abspath(args["out"])
    kind = args.get("kind")
    legacy = bool(args.get("legacy", False))
    with_media = bool(args.get("withMedia", True))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if kind == "colpkg":
        if path in held:
            # Anki Desktop closes its open collection for the export and reopens it afterwards
            col = held[path]
            try:
                col.export_collection_package(out, include_media=with_media, legacy=legacy)
            finally:
                col.reopen()
        else:
            col = open_col(path)
            try:
                # closes the collection as Anki Desktop does before a colpkg export
                col.export_collection_package(out, include_media=with_media, legacy=legacy)
            finally:
                if col.db:
                    col.close()
    elif kind == "apkg":
        sched = bool(args.get("withScheduling", True))
        opts = import_export_pb2.ExportAnkiPackageOptions(
            with_scheduling=sched, with_deck_configs=sched, with_media=with_media, legacy=legacy)
        def run(col: Collection) -> Any:
            # the whole collection, or one deck (with its subdecks) as Anki's "Export deck"
            limit = DeckIdLimit(deck_id=deck_id_named(col, args["deck"])) if args.get("deck") else None
            return col.export_anki_package(out_path=out, options=opts, limit=limit)

        with_col(path, run)
    else:
        raise PeerError("BadArgs", "kind must be 'colpkg' or 'apkg'")
    return {"out": out, "size": os.path.getsize(out)}


def cmd_import_package(args: dict[str, Any]) -> Any:
    path = col_path(args)
    pkg = os.path.abspath(args["pkg"])
    if not os.path.exists(pkg):
        raise PeerError("NotFound", f"no package at {pkg}")
    kind = args.get("kind")
    if kind == "colpkg":
        # Replace, as Anki Desktop's "Import > collection package" does with the profile closed.
        os.makedirs(os.path.dirname(path), exist_ok=True)
        media_folder, media_db = media_paths_from_col_path(path)
        os.makedirs(media_folder, exist_ok=True)
        was_held = held.pop(path, None)
        if was_held is not None:
            was_held.close()  # Anki Desktop unloads the collection for the replace, then reloads
        try:
            # (the request's "backup_path" is the package to restore from, as in Anki Desktop)
            RustBackend().import_collection_package(col_path=path, backup_path=pkg,
                                                    media_folder=media_folder, media_db=media_db)
        finally:
            if was_held is not None:
                held[path] = Collection(path)
        return {"log": None}
    if kind == "apkg":
        sched = bool(args.get("withScheduling", True))
        opts = import_export_pb2.ImportAnkiPackageOptions(
            merge_notetypes=bool(args.get("mergeNotetypes", False)),
            update_notes=int(args.get("updateNotes", 0)),
            update_notetypes=int(args.get("updateNotetypes", 0)),
            with_scheduling=sched, with_deck_configs=sched)
        req = import_export_pb2.ImportAnkiPackageRequest(package_path=pkg, options=opts)

        def run(col: Collection) -> Any:
            log = col.import_anki_package(req).log
            return {"log": {k: len(getattr(log, k)) for k in (
                "new", "updated", "duplicate", "conflicting", "first_field_match",
                "missing_notetype", "missing_deck", "empty_first_field")} | {"found_notes": log.found_notes}}

        return with_col(path, run, must_exist=False)
    raise PeerError("BadArgs", "kind must be 'colpkg' or 'apkg'")


REBUILT_MARKERS = ("Database rebuilt and optimized",)


def cmd_check(args: dict[str, Any]) -> Any:
    path = col_path(args)

    def run(col: Collection) -> Any:
        integrity = [str(r) for r in col.db.list("pragma integrity_check")]
        problems = [] if integrity == ["ok"] else [f"integrity_check: {r}" for r in integrity]
        text, ok = col.fix_integrity()
        if not ok:
            problems.extend(p for p in text.split("\n") if p and p not in REBUILT_MARKERS
                            and p != col.tr.database_check_rebuilt())
        # Fluent wraps numbers in Unicode isolation marks; plain text is easier to assert on
        problems = [p.replace("\u2068", "").replace("\u2069", "") for p in problems]
        return {"ok": not problems, "problems": problems}

    if not os.path.exists(path):
        raise PeerError("NotFound", f"no collection at {path}")
    try:
        return with_col(path, run)
    except PeerError:
        raise
    except Exception as e:
        if "already open" in str(e) or "locked" in str(e):
            raise PeerError("Locked", f"{path} is open elsewhere: {e}") from e
        # a file Anki cannot even open (corrupt, not SQLite, too new) fails the check; it is a
        # finding about the file, not a failure of the peer
        return {"ok": False, "problems": [f"{type(e).__name__}: {e}"]}


def cmd_dump(args: dict[str, Any]) -> Any:
    path = col_path(args)
    media_dir = args.get("mediaDir")
    ignore = bool(args.get("ignoreSync", False))
    return with_col(path, lambda col: dump_collection(col, ignore, media_dir or col.media.dir()))


def cmd_hold(args: dict[str, Any]) -> Any:
    path = col_path(args)
    col = open_col(path)
    # Opening is all it takes: Anki opens with locking_mode=exclusive + WAL and its open reads
    # and sets up the file, so the lock is held from here until close (verified: another process
    # gets "database is locked" right after Collection(path)).
    held[path] = col
    return {"held": path}


def cmd_release(args: dict[str, Any]) -> Any:
    path = col_path(args)
    col = held.pop(path, None)
    if col is None:
        raise PeerError("NotHeld", f"{path} is not held")
    col.close()
    return {"released": path}


def auth_of(args: dict[str, Any]) -> sync_pb2.SyncAuth:
    auth = sync_pb2.SyncAuth(hkey=args["hkey"], endpoint=args["endpoint"])
    if args.get("ioTimeoutSecs"):
        # optional (merge bench): a large full upload can keep the server busy longer than the
        # client's default 30 s stall timeout
        auth.io_timeout_secs = int(args["ioTimeoutSecs"])
    return auth


def cmd_sync_login(args: dict[str, Any]) -> Any:
    backend = RustBackend()
    auth = backend.sync_login(sync_pb2.SyncLoginRequest(
        username=args["user"], password=args["password"], endpoint=args["endpoint"]))
    return {"hkey": auth.hkey, "endpoint": auth.endpoint or args["endpoint"]}


REQUIRED = {0: "noChanges", 1: "normal", 2: "full", 3: "fullDownload", 4: "fullUpload"}


def wait_media(col: Collection, timeout: float = 120) -> None:
    end = time.time() + timeout
    while col.media_sync_status().active:  # raises if the media sync failed
        if time.time() > end:
            col.abort_media_sync()
            raise PeerError("Timeout", "media sync did not finish")
        time.sleep(0.05)


def cmd_sync(args: dict[str, Any]) -> Any:
    path = col_path(args)
    media = bool(args.get("media", False))

    def run(col: Collection) -> Any:
        ls_before = col.db.scalar("select ls from col")
        out = col.sync_collection(auth_of(args), sync_media=media)
        # Anki answers NO_CHANGES both when there was nothing to do and after it completed a
        # normal sync; a completed normal sync is recognised by its new last-sync time (ls).
        required = REQUIRED.get(out.required, str(out.required))
        if required.startswith("full"):
            did = "none: full sync required"
        else:
            did = "normal" if col.db.scalar("select ls from col") != ls_before else "nothing"
        if media and required in ("noChanges", "normal"):
            wait_media(col)
        return {"required": required, "did": did, "serverMessage": out.server_message,
                "newEndpoint": out.new_endpoint or None, "serverMediaUsn": out.server_media_usn}

    return with_col(path, run)


def cmd_full_sync(args: dict[str, Any]) -> Any:
    path = col_path(args)
    direction = args.get("direction")
    if direction not in ("upload", "download"):
        raise PeerError("BadArgs", "direction must be 'upload' or 'download'")
    media = bool(args.get("media", False))

    def run(col: Collection) -> Any:
        auth = auth_of(args)
        col.close_for_full_sync()
        col.full_upload_or_download(auth=auth, server_usn=None, upload=direction == "upload")
        col.reopen(after_full_sync=True)
        if media:
            col.sync_media(auth)
            wait_media(col)
        return {"direction": direction}

    return with_col(path, run, must_exist=direction == "upload")


def cmd_query(args: dict[str, Any]) -> Any:
    """Rows of one SQL statement run through Anki's own connection (which has the unicase
    collation). For assertions in tests; it is not limited to reads."""
    path = col_path(args)
    sql = args.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise PeerError("BadArgs", "'sql' must be a statement")
    params = args.get("params") or []

    def run(col: Collection) -> Any:
        rows = col.db.all(sql, *params)
        return [[r.hex() if isinstance(r, (bytes, bytearray)) else r for r in row] for row in rows]

    return with_col(path, run)


COMMANDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "query": cmd_query,
    "ping": cmd_ping,
    "freezeClock": cmd_freeze_clock,
    "createCollection": cmd_create_collection,
    "modify": cmd_modify,
    "exportPackage": cmd_export_package,
    "importPackage": cmd_import_package,
    "check": cmd_check,
    "dump": cmd_dump,
    "hold": cmd_hold,
    "release": cmd_release,
    "syncLogin": cmd_sync_login,
    "sync": cmd_sync,
    "fullSync": cmd_full_sync,
}


def answer(msg: dict[str, Any]) -> None:
    _proto.write(json.dumps(msg, separators=(",", ":"), default=str) + "\n")
    _proto.flush()


def serve() -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            fn = COMMANDS.get(req.get("cmd"))
            if fn is None:
                raise PeerError("UnknownCommand", f"unknown command {req.get('cmd')!r}; known: {', '.join(COMMANDS)}")
            result = fn(Args(req.get("args") or {}))
            answer({"id": rid, "ok": True, "result": result})
        except PeerError as e:
            answer({"id": rid, "ok": False, "error": {"type": e.type, "message": str(e)}})
        except BaseException as e:  # keep serving whatever happened
            if isinstance(e, KeyboardInterrupt):
                break
            print(traceback.format_exc(), file=sys.stderr)
            answer({"id": rid, "ok": False, "error": {"type": type(e).__name__, "message": str(e) or repr(e)}})
    for col in held.values():
        col.close()


if __name__ == "__main__":
    serve()
