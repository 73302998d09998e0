"""Writes prefs21.db the way Anki Desktop does (qt/aqt/profiles.py facts: table
profiles(name text primary key collate nocase, data blob not null); '_global' and one row per
profile, each a pickled dict). Used by the desktop tests so that our unpickler reads real pickles.

usage: write_prefs.py <base> <json: {"profiles": [...], "last": name|null, "protocol": 4}>
"""
import json
import os
import pickle
import sqlite3
import sys
import time

base = sys.argv[1]
spec = json.loads(sys.argv[2])
proto = int(spec.get("protocol", 4))
os.makedirs(base, exist_ok=True)
con = sqlite3.connect(os.path.join(base, "prefs21.db"))
con.execute("create table if not exists profiles (name text primary key collate nocase, data blob not null)")
meta = {
    "ver": 0, "updates": True, "created": int(time.time()), "id": 1234567890123456789,
    "lastMsg": 0, "suppressUpdate": False, "firstRun": False, "defaultLang": "en_US",
}
if spec.get("last") is not None:
    meta["last_loaded_profile_name"] = spec["last"]
con.execute("insert or replace into profiles values ('_global', ?)", (pickle.dumps(meta, protocol=proto),))
for name in spec["profiles"]:
    prof = {
        "mainWindowGeom": b"\x01\xd9\xd0\xcb\x00\x03\x00\x00", "mainWindowState": None,
        "numBackups": 50, "lastOptimize": int(time.time()), "searchHistory": ["deck:current", "is:due"],
        "syncKey": "secret-hkey-of-" + name, "syncUser": name.lower().replace(" ", "") + "@example.org",
        "syncMedia": True, "autoSync": True, "allowHTML": False, "importMode": 1,
        "lastColour": "#00f", "stripHTML": True, "deleteMedia": False, "hostNum": None,
        "networkTimeout": 60, "customSyncUrl": None, "ratio": 1.5, "bigint": 2**80,
        "tupleish": (1, "two", 3.0), "setish": {1, 2}, "unicode": "Ünïcödé ✓",
    }
    con.execute("insert or replace into profiles values (?, ?)", (name, pickle.dumps(prof, protocol=proto)))
con.commit()
con.close()
