/*
 * A SQLite loadable extension that registers the collation "unicase": Unicode case-insensitive
 * comparison by full case folding, the collation Anki registers for its schema-18 name columns
 * (decks.name, notetypes.name, fields.name, templates.name, deck_config.name, tags.tag).
 * better-sqlite3 has no collation API, only loadExtension(), hence this file.
 *
 * Order: both strings are folded code point by code point and the folded sequences are
 * compared lexicographically by code point; invalid UTF-8 bytes compare as themselves.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <stddef.h>
#include <stdint.h>
#include "casefold_table.h"

/* Decodes one UTF-8 sequence; on malformed input consumes one byte and returns 0xDC00+byte. */
static uint32_t next_cp(const unsigned char *s, int n, int *pos) {
  int i = *pos;
  unsigned char c = s[i];
  if (c < 0x80) { *pos = i + 1; return c; }
  int len = (c >= 0xF0 && c < 0xF8) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 0;
  if (len == 0 || i + len > n) { *pos = i + 1; return 0xDC00u + c; }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; k++) {
    unsigned char cc = s[i + k];
    if ((cc & 0xC0) != 0x80) { *pos = i + 1; return 0xDC00u + c; }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *pos = i + len;
  return cp;
}

static const casefold_entry *lookup(uint32_t cp) {
  size_t lo = 0, hi = CASEFOLD_TABLE_LEN;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (CASEFOLD_TABLE[mid].cp < cp) lo = mid + 1; else hi = mid;
  }
  return (lo < CASEFOLD_TABLE_LEN && CASEFOLD_TABLE[lo].cp == cp) ? &CASEFOLD_TABLE[lo] : NULL;
}

/* A stream of folded code points over one string. */
typedef struct { const unsigned char *s; int n; int pos; uint32_t pending[3]; int npending; int ipending; } fold_iter;

static int fold_next(fold_iter *it, uint32_t *out) {
  if (it->ipending < it->npending) { *out = it->pending[it->ipending++]; return 1; }
  if (it->pos >= it->n) return 0;
  uint32_t cp = next_cp(it->s, it->n, &it->pos);
  if (cp < 0x80) { *out = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; return 1; }
  const casefold_entry *e = lookup(cp);
  if (!e) { *out = cp; return 1; }
  it->npending = 0; it->ipending = 0;
  for (int k = 0; k < 3 && e->fold[k]; k++) it->pending[it->npending++] = e->fold[k];
  *out = it->pending[it->ipending++];
  return 1;
}

static int unicase_compare(void *unused, int n1, const void *p1, int n2, const void *p2) {
  (void)unused;
  fold_iter a = {p1, n1, 0, {0}, 0, 0}, b = {p2, n2, 0, {0}, 0, 0};
  for (;;) {
    uint32_t ca, cb;
    int ha = fold_next(&a, &ca), hb = fold_next(&b, &cb);
    if (!ha || !hb) return ha - hb;
    if (ca != cb) return ca < cb ? -1 : 1;
  }
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_unicase_init(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  (void)err;
  SQLITE_EXTENSION_INIT2(api);
  return sqlite3_create_collation(db, "unicase", SQLITE_UTF8, NULL, unicase_compare);
}
