/* strlib.c - strings, characters and text processing (stdlib.md §11, §12, §14).
 *
 * Strings are immutable UTF-8 with a precomputed character count and an
 * ASCII flag; every function keeps an ASCII fast path and only decodes when
 * it must.  Unicode case mapping, categories, normalization, widths and
 * grapheme breaks come from utf8proc; the few properties it lacks
 * (White_Space, Other_Alphabetic/Uppercase/Lowercase, the multi-character
 * uppercase mappings of SpecialCasing.txt) are small tables below,
 * generated from the Unicode 14 data. */
#include <stdlib.h>
#include <utf8proc.h>
#include "../ops.h"
#include "lib.h"

/* ---- Unicode tables ---- */

/* Other_Alphabetic: Alphabetic minus categories L* and Nl */
static const uint32_t other_alpha[][2] = {
    {0x345, 0x345}, {0x5B0, 0x5BD}, {0x5BF, 0x5BF}, {0x5C1, 0x5C2}, {0x5C4, 0x5C5}, {0x5C7, 0x5C7},
    {0x610, 0x61A}, {0x64B, 0x657}, {0x659, 0x65F}, {0x670, 0x670}, {0x6D6, 0x6DC}, {0x6E1, 0x6E4},
    {0x6E7, 0x6E8}, {0x6ED, 0x6ED}, {0x711, 0x711}, {0x730, 0x73F}, {0x7A6, 0x7B0}, {0x816, 0x817},
    {0x81B, 0x823}, {0x825, 0x827}, {0x829, 0x82C}, {0x8D4, 0x8DF}, {0x8E3, 0x8E9}, {0x8F0, 0x903},
    {0x93A, 0x93B}, {0x93E, 0x94C}, {0x94E, 0x94F}, {0x955, 0x957}, {0x962, 0x963}, {0x981, 0x983},
    {0x9BE, 0x9C4}, {0x9C7, 0x9C8}, {0x9CB, 0x9CC}, {0x9D7, 0x9D7}, {0x9E2, 0x9E3}, {0xA01, 0xA03},
    {0xA3E, 0xA42}, {0xA47, 0xA48}, {0xA4B, 0xA4C}, {0xA51, 0xA51}, {0xA70, 0xA71}, {0xA75, 0xA75},
    {0xA81, 0xA83}, {0xABE, 0xAC5}, {0xAC7, 0xAC9}, {0xACB, 0xACC}, {0xAE2, 0xAE3}, {0xAFA, 0xAFC},
    {0xB01, 0xB03}, {0xB3E, 0xB44}, {0xB47, 0xB48}, {0xB4B, 0xB4C}, {0xB56, 0xB57}, {0xB62, 0xB63},
    {0xB82, 0xB82}, {0xBBE, 0xBC2}, {0xBC6, 0xBC8}, {0xBCA, 0xBCC}, {0xBD7, 0xBD7}, {0xC00, 0xC03},
    {0xC3E, 0xC44}, {0xC46, 0xC48}, {0xC4A, 0xC4C}, {0xC55, 0xC56}, {0xC62, 0xC63}, {0xC81, 0xC83},
    {0xCBE, 0xCC4}, {0xCC6, 0xCC8}, {0xCCA, 0xCCC}, {0xCD5, 0xCD6}, {0xCE2, 0xCE3}, {0xD00, 0xD03},
    {0xD3E, 0xD44}, {0xD46, 0xD48}, {0xD4A, 0xD4C}, {0xD57, 0xD57}, {0xD62, 0xD63}, {0xD81, 0xD83},
    {0xDCF, 0xDD4}, {0xDD6, 0xDD6}, {0xDD8, 0xDDF}, {0xDF2, 0xDF3}, {0xE31, 0xE31}, {0xE34, 0xE3A},
    {0xE4D, 0xE4D}, {0xEB1, 0xEB1}, {0xEB4, 0xEB9}, {0xEBB, 0xEBC}, {0xECD, 0xECD}, {0xF71, 0xF81},
    {0xF8D, 0xF97}, {0xF99, 0xFBC}, {0x102B, 0x1036}, {0x1038, 0x1038}, {0x103B, 0x103E},
    {0x1056, 0x1059}, {0x105E, 0x1060}, {0x1062, 0x1064}, {0x1067, 0x106D}, {0x1071, 0x1074},
    {0x1082, 0x108D}, {0x108F, 0x108F}, {0x109A, 0x109D}, {0x1712, 0x1713}, {0x1732, 0x1733},
    {0x1752, 0x1753}, {0x1772, 0x1773}, {0x17B6, 0x17C8}, {0x1885, 0x1886}, {0x18A9, 0x18A9},
    {0x1920, 0x192B}, {0x1930, 0x1938}, {0x1A17, 0x1A1B}, {0x1A55, 0x1A5E}, {0x1A61, 0x1A74},
    {0x1ABF, 0x1AC0}, {0x1ACC, 0x1ACE}, {0x1B00, 0x1B04}, {0x1B35, 0x1B43}, {0x1B80, 0x1B82},
    {0x1BA1, 0x1BA9}, {0x1BAC, 0x1BAD}, {0x1BE7, 0x1BF1}, {0x1C24, 0x1C36}, {0x1DE7, 0x1DF4},
    {0x24B6, 0x24E9}, {0x2DE0, 0x2DFF}, {0xA674, 0xA67B}, {0xA69E, 0xA69F}, {0xA802, 0xA802},
    {0xA80B, 0xA80B}, {0xA823, 0xA827}, {0xA880, 0xA881}, {0xA8B4, 0xA8C3}, {0xA8C5, 0xA8C5},
    {0xA8FF, 0xA8FF}, {0xA926, 0xA92A}, {0xA947, 0xA952}, {0xA980, 0xA983}, {0xA9B4, 0xA9BF},
    {0xA9E5, 0xA9E5}, {0xAA29, 0xAA36}, {0xAA43, 0xAA43}, {0xAA4C, 0xAA4D}, {0xAA7B, 0xAA7D},
    {0xAAB0, 0xAAB0}, {0xAAB2, 0xAAB4}, {0xAAB7, 0xAAB8}, {0xAABE, 0xAABE}, {0xAAEB, 0xAAEF},
    {0xAAF5, 0xAAF5}, {0xABE3, 0xABEA}, {0xFB1E, 0xFB1E}, {0x10376, 0x1037A}, {0x10A01, 0x10A03},
    {0x10A05, 0x10A06}, {0x10A0C, 0x10A0F}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC},
    {0x11000, 0x11002}, {0x11038, 0x11045}, {0x11073, 0x11074}, {0x11082, 0x11082},
    {0x110B0, 0x110B8}, {0x110C2, 0x110C2}, {0x11100, 0x11102}, {0x11127, 0x11132},
    {0x11145, 0x11146}, {0x11180, 0x11182}, {0x111B3, 0x111BF}, {0x111CE, 0x111CF},
    {0x1122C, 0x11234}, {0x11237, 0x11237}, {0x1123E, 0x1123E}, {0x112DF, 0x112E8},
    {0x11300, 0x11303}, {0x1133E, 0x11344}, {0x11347, 0x11348}, {0x1134B, 0x1134C},
    {0x11357, 0x11357}, {0x11362, 0x11363}, {0x11435, 0x11441}, {0x11443, 0x11445},
    {0x114B0, 0x114C1}, {0x115AF, 0x115B5}, {0x115B8, 0x115BE}, {0x115DC, 0x115DD},
    {0x11630, 0x1163E}, {0x11640, 0x11640}, {0x116AB, 0x116B5}, {0x1171D, 0x1172A},
    {0x1182C, 0x11838}, {0x11930, 0x11935}, {0x11937, 0x11938}, {0x1193B, 0x1193C},
    {0x11940, 0x11940}, {0x11942, 0x11942}, {0x119D1, 0x119D7}, {0x119DA, 0x119DF},
    {0x119E4, 0x119E4}, {0x11A01, 0x11A0A}, {0x11A35, 0x11A39}, {0x11A3B, 0x11A3E},
    {0x11A51, 0x11A5B}, {0x11A8A, 0x11A97}, {0x11C2F, 0x11C36}, {0x11C38, 0x11C3E},
    {0x11C92, 0x11CA7}, {0x11CA9, 0x11CB6}, {0x11D31, 0x11D36}, {0x11D3A, 0x11D3A},
    {0x11D3C, 0x11D3D}, {0x11D3F, 0x11D41}, {0x11D43, 0x11D43}, {0x11D47, 0x11D47},
    {0x11D8A, 0x11D8E}, {0x11D90, 0x11D91}, {0x11D93, 0x11D96}, {0x11EF3, 0x11EF6},
    {0x16F4F, 0x16F4F}, {0x16F51, 0x16F87}, {0x16F8F, 0x16F92}, {0x16FF0, 0x16FF1},
    {0x1BC9E, 0x1BC9E}, {0x1E000, 0x1E006}, {0x1E008, 0x1E018}, {0x1E01B, 0x1E021},
    {0x1E023, 0x1E024}, {0x1E026, 0x1E02A}, {0x1E947, 0x1E947}, {0x1F130, 0x1F149},
    {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};
/* Other_Uppercase: Uppercase minus Lu */
static const uint32_t other_upper[][2] = {
    {0x2160, 0x216F}, {0x24B6, 0x24CF}, {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};
/* Other_Lowercase: Lowercase minus Ll */
static const uint32_t other_lower[][2] = {
    {0xAA, 0xAA}, {0xBA, 0xBA}, {0x2B0, 0x2B8}, {0x2C0, 0x2C1}, {0x2E0, 0x2E4}, {0x345, 0x345},
    {0x37A, 0x37A}, {0x1D2C, 0x1D6A}, {0x1D78, 0x1D78}, {0x1D9B, 0x1DBF}, {0x2071, 0x2071},
    {0x207F, 0x207F}, {0x2090, 0x209C}, {0x2170, 0x217F}, {0x24D0, 0x24E9}, {0x2C7C, 0x2C7D},
    {0xA69C, 0xA69D}, {0xA770, 0xA770}, {0xA7F8, 0xA7F9}, {0xAB5C, 0xAB5F}, {0x10780, 0x10780},
    {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA},
};
/* Unconditional multi-character uppercase mappings (SpecialCasing.txt) */
static const struct { uint32_t cp, up[3]; } special_upper[] = {
    {0xDF, {0x53, 0x53}}, {0x149, {0x2BC, 0x4E}}, {0x1F0, {0x4A, 0x30C}},
    {0x390, {0x399, 0x308, 0x301}}, {0x3B0, {0x3A5, 0x308, 0x301}}, {0x587, {0x535, 0x552}},
    {0x1E96, {0x48, 0x331}}, {0x1E97, {0x54, 0x308}}, {0x1E98, {0x57, 0x30A}},
    {0x1E99, {0x59, 0x30A}}, {0x1E9A, {0x41, 0x2BE}}, {0x1F50, {0x3A5, 0x313}},
    {0x1F52, {0x3A5, 0x313, 0x300}}, {0x1F54, {0x3A5, 0x313, 0x301}},
    {0x1F56, {0x3A5, 0x313, 0x342}}, {0x1F80, {0x1F08, 0x399}}, {0x1F81, {0x1F09, 0x399}},
    {0x1F82, {0x1F0A, 0x399}}, {0x1F83, {0x1F0B, 0x399}}, {0x1F84, {0x1F0C, 0x399}},
    {0x1F85, {0x1F0D, 0x399}}, {0x1F86, {0x1F0E, 0x399}}, {0x1F87, {0x1F0F, 0x399}},
    {0x1F88, {0x1F08, 0x399}}, {0x1F89, {0x1F09, 0x399}}, {0x1F8A, {0x1F0A, 0x399}},
    {0x1F8B, {0x1F0B, 0x399}}, {0x1F8C, {0x1F0C, 0x399}}, {0x1F8D, {0x1F0D, 0x399}},
    {0x1F8E, {0x1F0E, 0x399}}, {0x1F8F, {0x1F0F, 0x399}}, {0x1F90, {0x1F28, 0x399}},
    {0x1F91, {0x1F29, 0x399}}, {0x1F92, {0x1F2A, 0x399}}, {0x1F93, {0x1F2B, 0x399}},
    {0x1F94, {0x1F2C, 0x399}}, {0x1F95, {0x1F2D, 0x399}}, {0x1F96, {0x1F2E, 0x399}},
    {0x1F97, {0x1F2F, 0x399}}, {0x1F98, {0x1F28, 0x399}}, {0x1F99, {0x1F29, 0x399}},
    {0x1F9A, {0x1F2A, 0x399}}, {0x1F9B, {0x1F2B, 0x399}}, {0x1F9C, {0x1F2C, 0x399}},
    {0x1F9D, {0x1F2D, 0x399}}, {0x1F9E, {0x1F2E, 0x399}}, {0x1F9F, {0x1F2F, 0x399}},
    {0x1FA0, {0x1F68, 0x399}}, {0x1FA1, {0x1F69, 0x399}}, {0x1FA2, {0x1F6A, 0x399}},
    {0x1FA3, {0x1F6B, 0x399}}, {0x1FA4, {0x1F6C, 0x399}}, {0x1FA5, {0x1F6D, 0x399}},
    {0x1FA6, {0x1F6E, 0x399}}, {0x1FA7, {0x1F6F, 0x399}}, {0x1FA8, {0x1F68, 0x399}},
    {0x1FA9, {0x1F69, 0x399}}, {0x1FAA, {0x1F6A, 0x399}}, {0x1FAB, {0x1F6B, 0x399}},
    {0x1FAC, {0x1F6C, 0x399}}, {0x1FAD, {0x1F6D, 0x399}}, {0x1FAE, {0x1F6E, 0x399}},
    {0x1FAF, {0x1F6F, 0x399}}, {0x1FB2, {0x1FBA, 0x399}}, {0x1FB3, {0x391, 0x399}},
    {0x1FB4, {0x386, 0x399}}, {0x1FB6, {0x391, 0x342}}, {0x1FB7, {0x391, 0x342, 0x399}},
    {0x1FBC, {0x391, 0x399}}, {0x1FC2, {0x1FCA, 0x399}}, {0x1FC3, {0x397, 0x399}},
    {0x1FC4, {0x389, 0x399}}, {0x1FC6, {0x397, 0x342}}, {0x1FC7, {0x397, 0x342, 0x399}},
    {0x1FCC, {0x397, 0x399}}, {0x1FD2, {0x399, 0x308, 0x300}}, {0x1FD3, {0x399, 0x308, 0x301}},
    {0x1FD6, {0x399, 0x342}}, {0x1FD7, {0x399, 0x308, 0x342}}, {0x1FE2, {0x3A5, 0x308, 0x300}},
    {0x1FE3, {0x3A5, 0x308, 0x301}}, {0x1FE4, {0x3A1, 0x313}}, {0x1FE6, {0x3A5, 0x342}},
    {0x1FE7, {0x3A5, 0x308, 0x342}}, {0x1FF2, {0x1FFA, 0x399}}, {0x1FF3, {0x3A9, 0x399}},
    {0x1FF4, {0x38F, 0x399}}, {0x1FF6, {0x3A9, 0x342}}, {0x1FF7, {0x3A9, 0x342, 0x399}},
    {0x1FFC, {0x3A9, 0x399}}, {0xFB00, {0x46, 0x46}}, {0xFB01, {0x46, 0x49}},
    {0xFB02, {0x46, 0x4C}}, {0xFB03, {0x46, 0x46, 0x49}}, {0xFB04, {0x46, 0x46, 0x4C}},
    {0xFB05, {0x53, 0x54}}, {0xFB06, {0x53, 0x54}}, {0xFB13, {0x544, 0x546}},
    {0xFB14, {0x544, 0x535}}, {0xFB15, {0x544, 0x53B}}, {0xFB16, {0x54E, 0x546}},
    {0xFB17, {0x544, 0x53D}},
};

static bool in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < r[mid][0])
      hi = mid;
    else if (c > r[mid][1])
      lo = mid + 1;
    else
      return true;
  }
  return false;
}
#define IN_TABLE(c, t) in_ranges(c, t, sizeof(t) / sizeof(t[0]))

/* ---- character properties ---- */

static bool u_space(uint32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool u_upper(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return utf8proc_category((int32_t)c) == UTF8PROC_CATEGORY_LU || IN_TABLE(c, other_upper);
}

static bool u_lower(uint32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return utf8proc_category((int32_t)c) == UTF8PROC_CATEGORY_LL || IN_TABLE(c, other_lower);
}

static bool u_alpha(uint32_t c) {
  if (c < 0x80) return (c | 32) >= 'a' && (c | 32) <= 'z';
  utf8proc_category_t k = utf8proc_category((int32_t)c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_NL ||
         IN_TABLE(c, other_alpha);
}

static bool u_numeric(uint32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  utf8proc_category_t k = utf8proc_category((int32_t)c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* Full uppercase mapping: 1-3 characters. */
static int upper_full(uint32_t c, uint32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'a' && c <= 'z') ? c - 32 : c;
    return 1;
  }
  size_t lo = 0, hi = sizeof special_upper / sizeof special_upper[0];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c < special_upper[mid].cp)
      hi = mid;
    else if (c > special_upper[mid].cp)
      lo = mid + 1;
    else {
      int n = 0;
      while (n < 3 && special_upper[mid].up[n]) out[n] = special_upper[mid].up[n], n++;
      return n;
    }
  }
  out[0] = (uint32_t)utf8proc_toupper((int32_t)c);
  return 1;
}

/* Full lowercase mapping without the final-sigma rule (the only
 * unconditional multi-character one is U+0130). */
static int lower_full(uint32_t c, uint32_t out[2]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  if (c == 0x130) {
    out[0] = 'i', out[1] = 0x307;
    return 2;
  }
  out[0] = (uint32_t)utf8proc_tolower((int32_t)c);
  return 1;
}

static uint32_t upcase1(uint32_t c) {
  uint32_t o[3];
  upper_full(c, o);
  return o[0];
}
static uint32_t downcase1(uint32_t c) {
  uint32_t o[2];
  lower_full(c, o);
  return o[0];
}

/* ---- string helpers ---- */

static inline bool s_ascii(Value s) { return (as_string(s)->h.flags & STR_ASCII) != 0; }
static inline size_t s_nchars(Value s) { return as_string(s)->nchars; }

static Value mkstr(VM *vm, const char *p, size_t n, bool ascii) { return str_new_flagged(vm, p, n, ascii); }

static Value sub_bytes(VM *vm, Value s, size_t b0, size_t b1) {
  if (b0 == 0 && b1 == str_len(s)) return s;
  return mkstr(vm, str_data(s) + b0, b1 - b0, s_ascii(s));
}

static size_t char_index(Value s, size_t off) { return s_ascii(s) ? off : utf8_count(str_data(s), off); }

/* Byte offset after skipping k characters from byte offset `from`. */
static size_t skip_chars(const char *p, size_t len, size_t from, size_t k) {
  size_t b = from;
  while (k > 0 && b < len) {
    b++;
    while (b < len && ((unsigned char)p[b] & 0xC0) == 0x80) b++;
    k--;
  }
  return b;
}

/* Start of the character that ends at byte offset i (> 0). */
static size_t prev_start(const char *p, size_t i) {
  do i--;
  while (i > 0 && ((unsigned char)p[i] & 0xC0) == 0x80);
  return i;
}

static uint32_t decode_at(const char *p, size_t i, size_t *adv) { return utf8_decode(p + i, adv); }

static const char *find_bytes(const char *h, size_t hl, const char *n, size_t nl) {
  if (nl == 0) return h;
  if (nl == 1) return memchr(h, n[0], hl);
  return memmem(h, hl, n, nl);
}

static const char *rfind_bytes(const char *h, size_t hl, const char *n, size_t nl) {
  if (nl == 0) return h + hl;
  if (nl > hl) return NULL;
  for (size_t i = hl - nl + 1; i-- > 0;)
    if (h[i] == n[0] && memcmp(h + i, n, nl) == 0) return h + i;
  return NULL;
}

static Value S(VM *vm, Value v) { return arg_string(vm, v); }

static void sb_add_str(StrBuf *b, Value s) { sb_add(b, str_data(s), str_len(s)); }

/* Append the lowercase of p[0..len) with the final-sigma rule. */
static bool case_ignorable(uint32_t c) {
  switch (c) {
  case '\'': case '.': case ':': case '^': case '`': case 0xB7: case 0x387: case 0x55F: case 0x5F4:
  case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55:
  case 0xFF07: case 0xFF0E: case 0xFF1A:
    return true;
  }
  if (c < 0x80) return false;
  utf8proc_category_t k = utf8proc_category((int32_t)c);
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
         k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK;
}
static bool cased(uint32_t c) {
  return u_upper(c) || u_lower(c) || (c >= 0x80 && utf8proc_category((int32_t)c) == UTF8PROC_CATEGORY_LT);
}

/* Unicode Final_Sigma: a cased letter before (skipping case-ignorables) and none after. */
static bool final_sigma(const char *p, size_t len, size_t start, size_t end) {
  size_t adv;
  bool before = false;
  for (size_t i = start; i > 0;) {
    i = prev_start(p, i);
    uint32_t c = decode_at(p, i, &adv);
    if (case_ignorable(c)) continue;
    before = cased(c);
    break;
  }
  if (!before) return false;
  for (size_t i = end; i < len; i += adv) {
    uint32_t c = decode_at(p, i, &adv);
    if (case_ignorable(c)) continue;
    return !cased(c);
  }
  return true;
}

static void add_lower(StrBuf *b, const char *p, size_t len) {
  size_t adv;
  for (size_t i = 0; i < len; i += adv) {
    uint32_t c = decode_at(p, i, &adv), o[2];
    if (c < 0x80) {
      sb_addc(b, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
    } else if (c == 0x3A3) {
      sb_add_utf8(b, final_sigma(p, len, i, i + adv) ? 0x3C2 : 0x3C3);
    } else {
      int n = lower_full(c, o);
      for (int k = 0; k < n; k++) sb_add_utf8(b, o[k]);
    }
  }
}

static void add_upper(StrBuf *b, const char *p, size_t len) {
  size_t adv;
  for (size_t i = 0; i < len; i += adv) {
    uint32_t c = decode_at(p, i, &adv), o[3];
    if (c < 0x80) {
      sb_addc(b, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
    } else {
      int n = upper_full(c, o);
      for (int k = 0; k < n; k++) sb_add_utf8(b, o[k]);
    }
  }
}

/* First character fully uppercased, the rest lowercased. */
static void add_capitalized(StrBuf *b, const char *p, size_t len) {
  if (len == 0) return;
  size_t adv;
  decode_at(p, 0, &adv);
  add_upper(b, p, adv);
  add_lower(b, p + adv, len - adv);
}

/* Full case folding (CaseFolding.txt C + F). */
static void add_folded(StrBuf *b, const char *p, size_t len) {
  size_t adv;
  for (size_t i = 0; i < len; i += adv) {
    uint32_t c = decode_at(p, i, &adv);
    if (c < 0x80) {
      sb_addc(b, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
      continue;
    }
    utf8proc_int32_t out[8];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((int32_t)c, out, 8, UTF8PROC_CASEFOLD, &last);
    if (n <= 0 || n > 8) {
      sb_add_utf8(b, c);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; k++) sb_add_utf8(b, (uint32_t)out[k]);
  }
}

/* Display width of text, ANSI escape sequences (as term/strip) excluded. */
static size_t text_width(const char *p, size_t len) {
  size_t w = 0, adv;
  for (size_t i = 0; i < len;) {
    unsigned char u = (unsigned char)p[i];
    if (u == 0x1B) {
      i++;
      if (i >= len) break;
      if (p[i] == '[') {
        for (i++; i < len && !(p[i] >= 0x40 && p[i] <= 0x7E); i++) {}
        i++;
      } else if (p[i] == ']') {
        for (i++; i < len; i++) {
          if (p[i] == 7) { i++; break; }
          if (p[i] == 0x1B && i + 1 < len && p[i + 1] == '\\') { i += 2; break; }
        }
      } else {
        decode_at(p, i, &adv);
        i += adv;
      }
      continue;
    }
    if (u < 0x80) {
      w += u >= 0x20 && u != 0x7F;
      i++;
      continue;
    }
    uint32_t c = decode_at(p, i, &adv);
    w += (size_t)utf8proc_charwidth((int32_t)c);
    i += adv;
  }
  return w;
}

/* ---- §11.1 building and measuring ---- */

static Value n_byte_length(VM *vm, int argc, Value *argv) {
  return num_int(vm, str_len(S(vm, argv[0])));
}

static Value n_width(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  return num_int(vm, (int64_t)text_width(str_data(s), str_len(s)));
}

static Value n_repeat(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  int64_t n = arg_int(vm, argv[1]);
  if (n < 0) err_nonneg(vm, "string/repeat", argv[1]);
  size_t len = str_len(s);
  if (len == 0 || n == 0) return str_new(vm, "", 0);
  if ((uint64_t)n > 0xFFFFFFF0u / len) err_eval(vm, "string/repeat: result length overflows");
  size_t total = len * (size_t)n;
  Value r = str_new_uninit(vm, total);
  char *d = as_string(r)->data;
  memcpy(d, str_data(s), len);
  for (size_t done = len; done < total;) { /* doubling copies */
    size_t k = done < total - done ? done : total - done;
    memcpy(d + done, d, k);
    done += k;
  }
  as_string(r)->nchars = (uint32_t)(s_nchars(s) * (size_t)n);
  as_string(r)->h.flags = s_ascii(s) ? STR_ASCII : 0;
  return r;
}

/* Equal strings are indistinguishable (eq? is structural), so interning
 * only has to make the string a cheap map key: cache its hash. */
static Value n_intern(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  str_hash(s);
  return s;
}

/* ---- §11.2 access and slicing ---- */

static Value n_substring(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  int64_t start = arg_int(vm, argv[1]);
  int64_t n = (int64_t)s_nchars(s);
  int64_t end = argc > 2 ? arg_int(vm, argv[2]) : n;
  if (start < 0) err_eval(vm, "substring: start index %lld must be non-negative", (long long)start);
  if (end < 0) err_eval(vm, "substring: end index %lld must be non-negative", (long long)end);
  if (start > n || end > n || start > end) err_eval(vm, "substring: index out of bounds");
  if (s_ascii(s)) return sub_bytes(vm, s, (size_t)start, (size_t)end);
  const char *p = str_data(s);
  size_t b0 = skip_chars(p, str_len(s), 0, (size_t)start);
  size_t b1 = skip_chars(p, str_len(s), b0, (size_t)(end - start));
  return sub_bytes(vm, s, b0, b1);
}

static Value n_take(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  int64_t k = arg_int(vm, argv[1]);
  size_t n = s_nchars(s);
  if (k >= 0) {
    size_t m = (uint64_t)k < n ? (size_t)k : n;
    return sub_bytes(vm, s, 0, str_byte_offset(s, m));
  }
  size_t m = k < -(int64_t)n ? n : (size_t)-k;
  return sub_bytes(vm, s, str_byte_offset(s, n - m), str_len(s));
}

static Value n_to_list(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), adv;
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < len; i += adv) list_add(vm, &lb, char_val(decode_at(p, i, &adv)));
  return lb.head;
}

static Value n_list_to_string(VM *vm, int argc, Value *argv) {
  Value l = argv[0];
  if (!is_list(l)) err_type(vm, "list", l);
  StrBuf b;
  sb_init_vm(&b, vm);
  for (; is_cons(l); l = cdr(l)) {
    if (!is_char(car(l))) {
      sb_free(&b);
      err_type(vm, "char", car(l));
    }
    sb_add_utf8(&b, char_of(car(l)));
  }
  return sb_to_string(vm, &b);
}

static Value n_codepoints(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), adv;
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < len; i += adv) list_add(vm, &lb, small_int_val(decode_at(p, i, &adv)));
  return lb.head;
}

static bool valid_scalar(int64_t c) { return c >= 0 && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF); }

static Value n_from_codepoints(VM *vm, int argc, Value *argv) {
  Value seq = argv[0];
  if (!is_list(seq) && !is_vector(seq)) err_type(vm, "list or vector", seq);
  StrBuf b;
  sb_init_vm(&b, vm);
  SeqIter it;
  seqiter_init(&it, seq);
  Value x;
  while (seqiter_next(&it, &x)) {
    if (!is_int(x)) {
      sb_free(&b);
      err_type(vm, "integer", x);
    }
    if (!valid_scalar(int_of(x))) {
      sb_free(&b);
      err_eval(vm, "string/from-codepoints: invalid codepoint %lld", (long long)int_of(x));
    }
    sb_add_utf8(&b, (uint32_t)int_of(x));
  }
  return sb_to_string(vm, &b);
}

/* after / after-last / before / before-last share one shape */
static Value around(VM *vm, Value *argv, bool last, bool after) {
  Value s = S(vm, argv[0]), nd = S(vm, argv[1]);
  const char *p = str_data(s);
  size_t len = str_len(s), nl = str_len(nd);
  const char *hit = last ? rfind_bytes(p, len, str_data(nd), nl) : find_bytes(p, len, str_data(nd), nl);
  if (!hit) return s;
  size_t at = (size_t)(hit - p);
  return after ? sub_bytes(vm, s, at + nl, len) : sub_bytes(vm, s, 0, at);
}
static Value n_after(VM *vm, int argc, Value *argv) { return around(vm, argv, false, true); }
static Value n_after_last(VM *vm, int argc, Value *argv) { return around(vm, argv, true, true); }
static Value n_before(VM *vm, int argc, Value *argv) { return around(vm, argv, false, false); }
static Value n_before_last(VM *vm, int argc, Value *argv) { return around(vm, argv, true, false); }

static Value n_between(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), l = S(vm, argv[1]), r = S(vm, argv[2]);
  const char *p = str_data(s);
  size_t len = str_len(s);
  const char *hl = find_bytes(p, len, str_data(l), str_len(l));
  if (!hl) return str_new(vm, "", 0);
  size_t from = (size_t)(hl - p) + str_len(l);
  const char *hr = find_bytes(p + from, len - from, str_data(r), str_len(r));
  return sub_bytes(vm, s, from, hr ? (size_t)(hr - p) : len);
}

/* ---- §11.3 searching and predicates ---- */

static Value n_contains(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), t = S(vm, argv[1]);
  return bool_val(find_bytes(str_data(s), str_len(s), str_data(t), str_len(t)) != NULL);
}

static Value n_starts_with(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), t = S(vm, argv[1]);
  return bool_val(str_len(t) <= str_len(s) && memcmp(str_data(s), str_data(t), str_len(t)) == 0);
}

static Value n_ends_with(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), t = S(vm, argv[1]);
  return bool_val(str_len(t) <= str_len(s) &&
                  memcmp(str_data(s) + str_len(s) - str_len(t), str_data(t), str_len(t)) == 0);
}

static Value n_index_of(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), t = S(vm, argv[1]);
  const char *h = find_bytes(str_data(s), str_len(s), str_data(t), str_len(t));
  return h ? num_int(vm, (int64_t)char_index(s, (size_t)(h - str_data(s)))) : NIL_VAL;
}

static Value n_last_index_of(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), t = S(vm, argv[1]);
  const char *h = rfind_bytes(str_data(s), str_len(s), str_data(t), str_len(t));
  return h ? num_int(vm, (int64_t)char_index(s, (size_t)(h - str_data(s)))) : NIL_VAL;
}

static Value n_empty(VM *vm, int argc, Value *argv) {
  return bool_val(str_len(S(vm, argv[0])) == 0);
}

/* string/number? asks string->number itself (math.c) so the two agree. */
static NativeFn string_to_number_fn;
typedef struct {
  Value s;
} NumProbe;
static void probe_number(VM *vm, void *ud) {
  NumProbe *np = ud;
  string_to_number_fn(vm, 1, &np->s);
}

static Value n_number_p(VM *vm, int argc, Value *argv) {
  NumProbe np = {S(vm, argv[0])};
  if (!string_to_number_fn) err_eval(vm, "string/number?: string->number is not available");
  return bool_val(vm_protect(vm, probe_number, &np) == 0);
}

static Value folded(VM *vm, Value s) {
  StrBuf b;
  sb_init_vm(&b, vm);
  add_folded(&b, str_data(s), str_len(s));
  return sb_to_string(vm, &b);
}

static Value n_ci_eq(VM *vm, int argc, Value *argv) {
  Value a = S(vm, argv[0]), b = S(vm, argv[1]);
  return bool_val(str_eq(folded(vm, a), folded(vm, b)));
}

/* ---- §11.4 splitting and joining ---- */

static Value n_split(VM *vm, int argc, Value *argv) { return op_string_split(vm, argv[0], argv[1]); }

static Value n_lines(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), i = 0;
  ListBuilder lb;
  list_start(&lb);
  while (i < len) {
    const char *nl = memchr(p + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - p) : len, ce = e;
    if (nl && ce > i && p[ce - 1] == '\r') ce--;
    list_add(vm, &lb, mkstr(vm, p + i, ce - i, s_ascii(s)));
    i = e + 1;
  }
  return lb.head;
}

static Value n_join(VM *vm, int argc, Value *argv) {
  Value seq = argv[0], sep = S(vm, argv[1]);
  if (!is_list(seq) && !is_vector(seq)) err_type(vm, "list or vector", seq);
  /* fast path: all strings -> one exact-size allocation */
  size_t total = 0, chars = 0, n = 0;
  bool ascii = s_ascii(sep), all = true;
  SeqIter it;
  seqiter_init(&it, seq);
  Value x;
  while (seqiter_next(&it, &x)) {
    if (!is_string(x)) {
      all = false;
      break;
    }
    total += str_len(x), chars += s_nchars(x), n++;
    ascii = ascii && s_ascii(x);
  }
  if (all) {
    if (n == 0) return str_new(vm, "", 0);
    total += (n - 1) * str_len(sep), chars += (n - 1) * s_nchars(sep);
    Value r = str_new_uninit(vm, total);
    char *d = as_string(r)->data;
    seqiter_init(&it, seq);
    for (size_t k = 0; seqiter_next(&it, &x); k++) {
      if (k) memcpy(d, str_data(sep), str_len(sep)), d += str_len(sep);
      memcpy(d, str_data(x), str_len(x)), d += str_len(x);
    }
    as_string(r)->nchars = (uint32_t)chars;
    as_string(r)->h.flags = ascii ? STR_ASCII : 0;
    return r;
  }
  StrBuf b;
  sb_init_vm(&b, vm);
  seqiter_init(&it, seq);
  for (size_t k = 0; seqiter_next(&it, &x); k++) {
    if (k) sb_add_str(&b, sep);
    print_value(vm, &b, x, false);
  }
  return sb_to_string(vm, &b);
}

/* Identifier words (stdlib.md §11.4) as byte ranges [r[2k], r[2k+1]). */
typedef struct {
  size_t *v;
  size_t n, cap; /* n = number of words */
} Words;

static void words_add(Words *w, size_t b0, size_t b1) {
  if (b0 == b1) return;
  if (w->n == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 8;
    w->v = realloc(w->v, w->cap * 2 * sizeof(size_t));
    if (!w->v) abort();
  }
  w->v[2 * w->n] = b0, w->v[2 * w->n + 1] = b1;
  w->n++;
}

static void split_words(const char *p, size_t len, Words *w) {
  size_t ws = 0, last = 0, nch = 0, adv; /* current word: [ws, i), last = start of its last char */
  bool up = false;
  for (size_t i = 0; i < len; i += adv) {
    uint32_t c = decode_at(p, i, &adv);
    if (c == '_' || c == '-' || c == ' ' || c == '.') {
      words_add(w, ws, i);
      ws = i + adv, nch = 0, up = false;
      continue;
    }
    if (u_upper(c)) {
      if (nch > 0 && !up) words_add(w, ws, i), ws = i, nch = 0;
      up = true;
    } else if (u_lower(c) && up && nch >= 2) {
      words_add(w, ws, last);
      ws = last, nch = 1;
      up = false;
    } else {
      up = false;
    }
    last = i, nch++;
  }
  words_add(w, ws, len);
}

static Value n_words(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  Words w = {0};
  split_words(str_data(s), str_len(s), &w);
  ListBuilder lb;
  list_start(&lb);
  for (size_t k = 0; k < w.n; k++) list_add(vm, &lb, sub_bytes(vm, s, w.v[2 * k], w.v[2 * k + 1]));
  free(w.v);
  return lb.head;
}

/* ---- §11.5 trimming, padding, replacing ---- */

static size_t trim_start(const char *p, size_t len) {
  size_t i = 0, adv;
  while (i < len) {
    if ((unsigned char)p[i] < 0x80) {
      if (!u_space((unsigned char)p[i])) break;
      i++;
      continue;
    }
    if (!u_space(decode_at(p, i, &adv))) break;
    i += adv;
  }
  return i;
}

static size_t trim_end(const char *p, size_t len, size_t from) {
  size_t e = len, adv;
  while (e > from) {
    size_t st = prev_start(p, e);
    if (!u_space(decode_at(p, st, &adv))) break;
    e = st;
  }
  return e;
}

static Value trim(VM *vm, Value s, bool left, bool right) {
  const char *p = str_data(s);
  size_t len = str_len(s);
  size_t b0 = left ? trim_start(p, len) : 0;
  size_t b1 = right ? trim_end(p, len, b0) : len;
  return sub_bytes(vm, s, b0, b1);
}
static Value n_trim(VM *vm, int argc, Value *argv) { return trim(vm, S(vm, argv[0]), true, true); }
static Value n_trim_left(VM *vm, int argc, Value *argv) { return trim(vm, S(vm, argv[0]), true, false); }
static Value n_trim_right(VM *vm, int argc, Value *argv) { return trim(vm, S(vm, argv[0]), false, true); }

static Value pad(VM *vm, int argc, Value *argv, bool left) {
  Value s = S(vm, argv[0]);
  int64_t w = arg_int(vm, argv[1]);
  if (w < 0) err_nonneg(vm, "string/pad", argv[1]);
  const char *pc = " ";
  size_t pl = 1;
  if (argc > 2) {
    Value ps = S(vm, argv[2]);
    if (str_len(ps) > 0) decode_at(str_data(ps), 0, &pl), pc = str_data(ps);
  }
  if ((uint64_t)w <= s_nchars(s)) return s;
  size_t k = (size_t)w - s_nchars(s);
  if (k > (0xFFFFFFF0u - str_len(s)) / pl) err_eval(vm, "string/pad: result length overflows");
  StrBuf b;
  sb_init_vm(&b, vm);
  if (!left) sb_add_str(&b, s);
  for (size_t i = 0; i < k; i++) sb_add(&b, pc, pl);
  if (left) sb_add_str(&b, s);
  return sb_to_string(vm, &b);
}
static Value n_pad_left(VM *vm, int argc, Value *argv) { return pad(vm, argc, argv, true); }
static Value n_pad_right(VM *vm, int argc, Value *argv) { return pad(vm, argc, argv, false); }

/* mode: 0 all, 1 first, 2 last */
static Value replace(VM *vm, Value s, Value from, Value to, int mode) {
  const char *p = str_data(s), *f = str_data(from);
  size_t len = str_len(s), fl = str_len(from);
  if (mode != 0) {
    const char *h = mode == 1 ? find_bytes(p, len, f, fl) : rfind_bytes(p, len, f, fl);
    if (!h) return s;
    StrBuf b;
    sb_init_vm(&b, vm);
    sb_add(&b, p, (size_t)(h - p));
    sb_add_str(&b, to);
    sb_add(&b, h + fl, len - (size_t)(h - p) - fl);
    return sb_to_string(vm, &b);
  }
  StrBuf b;
  sb_init_vm(&b, vm);
  if (fl == 0) { /* `to` at every character boundary, both ends included */
    size_t adv;
    sb_add_str(&b, to);
    for (size_t i = 0; i < len; i += adv) {
      decode_at(p, i, &adv);
      sb_add(&b, p + i, adv);
      sb_add_str(&b, to);
    }
    return sb_to_string(vm, &b);
  }
  const char *q = p, *end = p + len, *h;
  if (!find_bytes(p, len, f, fl)) return s;
  while ((h = find_bytes(q, (size_t)(end - q), f, fl))) {
    sb_add(&b, q, (size_t)(h - q));
    sb_add_str(&b, to);
    q = h + fl;
  }
  sb_add(&b, q, (size_t)(end - q));
  return sb_to_string(vm, &b);
}

static Value n_replace(VM *vm, int argc, Value *argv) {
  return replace(vm, S(vm, argv[0]), S(vm, argv[1]), S(vm, argv[2]), 0);
}
static Value n_replace_first(VM *vm, int argc, Value *argv) {
  return replace(vm, S(vm, argv[0]), S(vm, argv[1]), S(vm, argv[2]), 1);
}
static Value n_replace_last(VM *vm, int argc, Value *argv) {
  return replace(vm, S(vm, argv[0]), S(vm, argv[1]), S(vm, argv[2]), 2);
}

static Value n_remove(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), sub = S(vm, argv[1]);
  if (str_len(sub) == 0) return s;
  return replace(vm, s, sub, str_new(vm, "", 0), 0);
}

static bool has_prefix(Value s, Value p) {
  return str_len(p) <= str_len(s) && memcmp(str_data(s), str_data(p), str_len(p)) == 0;
}
static bool has_suffix(Value s, Value p) {
  return str_len(p) <= str_len(s) && memcmp(str_data(s) + str_len(s) - str_len(p), str_data(p), str_len(p)) == 0;
}

static Value concat3(VM *vm, Value a, Value b, Value c) {
  StrBuf sb;
  sb_init_vm(&sb, vm);
  sb_add_str(&sb, a);
  sb_add_str(&sb, b);
  sb_add_str(&sb, c);
  return sb_to_string(vm, &sb);
}

static Value n_chop_start(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), p = S(vm, argv[1]);
  return has_prefix(s, p) ? sub_bytes(vm, s, str_len(p), str_len(s)) : s;
}
static Value n_chop_end(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), p = S(vm, argv[1]);
  return has_suffix(s, p) ? sub_bytes(vm, s, 0, str_len(s) - str_len(p)) : s;
}
static Value n_ensure_start(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), p = S(vm, argv[1]);
  return has_prefix(s, p) ? s : concat3(vm, p, s, str_new(vm, "", 0));
}
static Value n_ensure_end(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), p = S(vm, argv[1]);
  return has_suffix(s, p) ? s : concat3(vm, s, p, str_new(vm, "", 0));
}
static Value n_wrap(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), l = S(vm, argv[1]);
  Value r = argc > 2 ? S(vm, argv[2]) : l;
  return concat3(vm, l, s, r);
}
static Value n_unwrap(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), l = S(vm, argv[1]);
  Value r = argc > 2 ? S(vm, argv[2]) : l;
  if (str_len(s) >= str_len(l) + str_len(r) && has_prefix(s, l) && has_suffix(s, r))
    return sub_bytes(vm, s, str_len(l), str_len(s) - str_len(r));
  return s;
}

static Value n_reverse(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  size_t len = str_len(s);
  Value r = str_new_uninit(vm, len);
  const char *p = str_data(s);
  char *d = as_string(r)->data;
  for (size_t i = 0; i < len;) { /* copy each character's bytes to the mirrored place */
    size_t adv;
    decode_at(p, i, &adv);
    memcpy(d + len - i - adv, p + i, adv);
    i += adv;
  }
  as_string(r)->nchars = (uint32_t)s_nchars(s);
  as_string(r)->h.flags = s_ascii(s) ? STR_ASCII : 0;
  return r;
}

/* string/map calls back into Sema: s stays rooted, the buffer is C memory
 * and is freed if the callback raises. */
static Value n_map(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], s = S(vm, argv[1]);
  uint32_t rs = vm_root_slot(vm, s);
  vm_push_root(vm, fn);
  StrBuf b;
  sb_init_vm(&b, vm);
  size_t adv;
  for (size_t i = 0; i < str_len(ROOT(vm, rs)); i += adv) {
    Value c = char_val(decode_at(str_data(ROOT(vm, rs)), i, &adv)), out;
    if (vm_pcall(vm, ROOT(vm, rs + 1), 1, &c, &out)) {
      sb_free(&b);
      vm_pop_roots(vm, 2);
      err_rethrow(vm);
    }
    if (is_char(out))
      sb_add_utf8(&b, char_of(out));
    else if (is_string(out))
      sb_add_str(&b, out);
    else {
      sb_free(&b);
      vm_pop_roots(vm, 2);
      err_type(vm, "char or string", out);
    }
  }
  vm_pop_roots(vm, 2);
  return sb_to_string(vm, &b);
}

/* ---- §11.6 case conversion and Unicode ---- */

/* Upper- or lower-case a string: ASCII strings byte by byte into an exact
 * allocation, others through utf8proc's full case mapping. */
static Value change_case(VM *vm, Value s, bool upper) {
  s = S(vm, s);
  size_t len = str_len(s);
  if (s_ascii(s)) {
    Value r = str_new_uninit(vm, len);
    const unsigned char *p = (const unsigned char *)str_data(s);
    char *d = as_string(r)->data;
    unsigned char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    for (size_t i = 0; i < len; i++) d[i] = (char)(p[i] >= lo && p[i] <= hi ? p[i] ^ 0x20 : p[i]);
    as_string(r)->h.flags = STR_ASCII;
    return r;
  }
  StrBuf b;
  sb_init_vm(&b, vm);
  (upper ? add_upper : add_lower)(&b, str_data(s), len);
  return sb_to_string(vm, &b);
}

static Value n_upper(VM *vm, int argc, Value *argv) { return change_case(vm, argv[0], true); }
static Value n_lower(VM *vm, int argc, Value *argv) { return change_case(vm, argv[0], false); }

static Value n_capitalize(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  StrBuf b;
  sb_init_vm(&b, vm);
  add_capitalized(&b, str_data(s), str_len(s));
  return sb_to_string(vm, &b);
}

static Value n_title_case(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), i = 0, adv;
  StrBuf b;
  sb_init_vm(&b, vm);
  while (i < len) {
    i += trim_start(p + i, len - i);
    if (i >= len) break;
    size_t e = i;
    while (e < len && !u_space(decode_at(p, e, &adv))) e += adv;
    if (b.len) sb_addc(&b, ' ');
    add_capitalized(&b, p + i, e - i);
    i = e;
  }
  return sb_to_string(vm, &b);
}

/* The identifier-word converters: style of each word and the separator. */
typedef enum { W_LOWER, W_CAP, W_CAMEL } WordStyle;
static Value convert_words(VM *vm, Value s, WordStyle st, const char *sep) {
  const char *p = str_data(s);
  Words w = {0};
  split_words(p, str_len(s), &w);
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t k = 0; k < w.n; k++) {
    const char *q = p + w.v[2 * k];
    size_t n = w.v[2 * k + 1] - w.v[2 * k];
    if (k) sb_adds(&b, sep);
    if (st == W_LOWER || (st == W_CAMEL && k == 0))
      add_lower(&b, q, n);
    else
      add_capitalized(&b, q, n);
  }
  free(w.v);
  return sb_to_string(vm, &b);
}
static Value n_snake(VM *vm, int argc, Value *argv) { return convert_words(vm, S(vm, argv[0]), W_LOWER, "_"); }
static Value n_kebab(VM *vm, int argc, Value *argv) { return convert_words(vm, S(vm, argv[0]), W_LOWER, "-"); }
static Value n_camel(VM *vm, int argc, Value *argv) { return convert_words(vm, S(vm, argv[0]), W_CAMEL, ""); }
static Value n_pascal(VM *vm, int argc, Value *argv) { return convert_words(vm, S(vm, argv[0]), W_CAP, ""); }
static Value n_headline(VM *vm, int argc, Value *argv) { return convert_words(vm, S(vm, argv[0]), W_CAP, " "); }

static Value n_foldcase(VM *vm, int argc, Value *argv) {
  return folded(vm, S(vm, argv[0]));
}

static Value n_normalize(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), f = argv[1];
  const char *name;
  if (is_string(f))
    name = str_data(f);
  else if (is_kw(f))
    name = sym_cstr(vm, f);
  else
    err_type(vm, "string or keyword", f);
  int opt;
  if (strcasecmp(name, "nfc") == 0)
    opt = UTF8PROC_COMPOSE;
  else if (strcasecmp(name, "nfd") == 0)
    opt = UTF8PROC_DECOMPOSE;
  else if (strcasecmp(name, "nfkc") == 0)
    opt = UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
  else if (strcasecmp(name, "nfkd") == 0)
    opt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
  else
    err_eval(vm, "string/normalize: unknown form '%s' (expected nfc, nfd, nfkc or nfkd)", name);
  if (s_ascii(s)) return s; /* ASCII is invariant under every form */
  utf8proc_uint8_t *out = NULL;
  utf8proc_ssize_t n =
      utf8proc_map((const utf8proc_uint8_t *)str_data(s), str_len(s), &out, (utf8proc_option_t)(opt | UTF8PROC_STABLE));
  if (n < 0) err_eval(vm, "string/normalize: %s", utf8proc_errmsg(n));
  Value r = str_new(vm, (const char *)out, (size_t)n);
  free(out);
  return r;
}

/* ---- string/word-wrap ---- */

typedef struct {
  VM *vm;
  ListBuilder lb;
  StrBuf line;
  size_t lw; /* width of line */
} Wrap;

static void wrap_flush(Wrap *w) {
  list_add(w->vm, &w->lb, str_new(w->vm, w->line.data ? w->line.data : "", w->line.len));
  w->line.len = 0, w->lw = 0;
}

/* A word too wide for a line: chunks of at most `width` columns at grapheme
 * boundaries; all but the last become lines. */
static void wrap_hard(Wrap *w, const char *p, size_t len, size_t width) {
  utf8proc_int32_t state = 0;
  size_t adv, i = 0;
  uint32_t prev = 0;
  while (i < len) {
    size_t g = i; /* one grapheme cluster [i, g) */
    for (bool first = true; g < len; first = false) {
      uint32_t c = decode_at(p, g, &adv);
      if (!first && utf8proc_grapheme_break_stateful((int32_t)prev, (int32_t)c, &state)) {
        prev = c;
        break;
      }
      prev = c;
      g += adv;
    }
    size_t gw = text_width(p + i, g - i);
    if (w->line.len && w->lw + gw > width) wrap_flush(w);
    sb_add(&w->line, p + i, g - i);
    w->lw += gw;
    if (g >= len) break;
    /* the break test above consumed prev; restart the state for the next cluster */
    state = 0;
    i = g;
  }
}

static void wrap_paragraph(Wrap *w, const char *p, size_t len, size_t width) {
  bool any = false;
  for (size_t i = 0; i < len;) {
    while (i < len && p[i] == ' ') i++;
    if (i >= len) break;
    const char *sp = memchr(p + i, ' ', len - i);
    size_t e = sp ? (size_t)(sp - p) : len;
    size_t ww = text_width(p + i, e - i);
    if (w->line.len && w->lw + 1 + ww <= width) {
      sb_addc(&w->line, ' ');
      sb_add(&w->line, p + i, e - i);
      w->lw += 1 + ww;
    } else {
      if (w->line.len) wrap_flush(w);
      if (ww > width)
        wrap_hard(w, p + i, e - i, width);
      else
        sb_add(&w->line, p + i, e - i), w->lw = ww;
    }
    any = true;
    i = e;
  }
  if (w->line.len || !any) wrap_flush(w);
}

static Value n_word_wrap(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  int64_t width = arg_int(vm, argv[1]);
  if (width < 0) err_nonneg(vm, "string/word-wrap", argv[1]);
  if (width == 0) width = 1;
  Wrap w = {.vm = vm, .lw = 0};
  list_start(&w.lb);
  sb_init_vm(&w.line, vm);
  const char *p = str_data(s);
  size_t len = str_len(s), i = 0;
  for (;;) {
    const char *nl = memchr(p + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - p) : len;
    if (trim_start(p + i, e - i) == e - i) /* blank paragraph */
      wrap_flush(&w);
    else
      wrap_paragraph(&w, p + i, e - i, (size_t)width);
    if (!nl) break;
    i = e + 1;
  }
  sb_free(&w.line);
  return w.lb.head;
}

/* ---- §12 characters ---- */

static uint32_t C(VM *vm, Value v) {
  if (!is_char(v)) err_type(vm, "char", v);
  return char_of(v);
}

static Value n_char_to_int(VM *vm, int argc, Value *argv) {
  return small_int_val(C(vm, argv[0]));
}

static Value n_int_to_char(VM *vm, int argc, Value *argv) {
  int64_t n = arg_int(vm, argv[0]);
  if (!valid_scalar(n)) err_eval(vm, "integer->char: invalid codepoint %lld", (long long)n);
  return char_val((uint32_t)n);
}

static Value n_char_to_string(VM *vm, int argc, Value *argv) {
  char buf[4];
  size_t n = utf8_encode(C(vm, argv[0]), buf);
  return mkstr(vm, buf, n, n == 1);
}

static Value n_string_to_char(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  if (s_nchars(s) == 0) err_eval(vm, "string->char: empty string");
  if (s_nchars(s) > 1) err_eval(vm, "string->char: string must have exactly one character");
  size_t adv;
  return char_val(decode_at(str_data(s), 0, &adv));
}

#define CHAR_PRED(cname, fn)                          \
  static Value cname(VM *vm, int argc, Value *argv) { \
    return bool_val(fn(C(vm, argv[0])));              \
  }
CHAR_PRED(n_alphabetic, u_alpha)
CHAR_PRED(n_numeric, u_numeric)
CHAR_PRED(n_whitespace, u_space)
CHAR_PRED(n_upper_case, u_upper)
CHAR_PRED(n_lower_case, u_lower)

static Value n_char_upcase(VM *vm, int argc, Value *argv) {
  return char_val(upcase1(C(vm, argv[0])));
}
static Value n_char_downcase(VM *vm, int argc, Value *argv) {
  return char_val(downcase1(C(vm, argv[0])));
}

static uint32_t ident(uint32_t c) { return c; }
#define CHAR_CMP(cname, map, op)                                            \
  static Value cname(VM *vm, int argc, Value *argv) {                       \
    uint32_t a = C(vm, argv[0]), b = C(vm, argv[1]);                         \
    return bool_val(map(a) op map(b));                                      \
  }
CHAR_CMP(n_char_eq, ident, ==)
CHAR_CMP(n_char_lt, ident, <)
CHAR_CMP(n_char_gt, ident, >)
CHAR_CMP(n_char_le, ident, <=)
CHAR_CMP(n_char_ge, ident, >=)
CHAR_CMP(n_char_ci_eq, downcase1, ==)
CHAR_CMP(n_char_ci_lt, downcase1, <)
CHAR_CMP(n_char_ci_gt, downcase1, >)
CHAR_CMP(n_char_ci_le, downcase1, <=)
CHAR_CMP(n_char_ci_ge, downcase1, >=)

/* ---- §14 text processing ---- */

/* Whitespace-separated words of s, joined by single spaces into b; returns the count. */
static size_t ws_words(StrBuf *b, const char *p, size_t len) {
  size_t i = 0, n = 0, adv;
  while (i < len) {
    i += trim_start(p + i, len - i);
    if (i >= len) break;
    size_t e = i;
    while (e < len && !u_space(decode_at(p, e, &adv))) e += adv;
    if (b) {
      if (n) sb_addc(b, ' ');
      sb_add(b, p + i, e - i);
    }
    n++;
    i = e;
  }
  return n;
}

static Value n_clean_ws(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  StrBuf b;
  sb_init_vm(&b, vm);
  ws_words(&b, str_data(s), str_len(s));
  return sb_to_string(vm, &b);
}

static Value n_word_count(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  return num_int(vm, (int64_t)ws_words(NULL, str_data(s), str_len(s)));
}

static Value n_normalize_newlines(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s);
  if (!memchr(p, '\r', len)) return s;
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '\r') {
      sb_addc(&b, '\n');
      if (i + 1 < len && p[i + 1] == '\n') i++;
    } else {
      sb_addc(&b, p[i]);
    }
  }
  return sb_to_string(vm, &b);
}

static Value n_trim_indent(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), min = SIZE_MAX;
  for (size_t i = 0;;) { /* smallest indent (bytes) of the non-blank lines */
    const char *nl = memchr(p + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - p) : len, ind = trim_start(p + i, e - i);
    if (ind < e - i && ind < min) min = ind;
    if (!nl) break;
    i = e + 1;
  }
  if (min == SIZE_MAX) min = 0;
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t i = 0;;) {
    const char *nl = memchr(p + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - p) : len, ind = trim_start(p + i, e - i), cut;
    if (e - i >= min) { /* drop leading whitespace characters up to min bytes */
      cut = 0;
      for (size_t adv; cut < min && cut < ind; cut += adv) {
        decode_at(p + i, cut, &adv);
        if (cut + adv > min) break;
      }
    } else {
      cut = ind;
    }
    sb_add(&b, p + i + cut, e - i - cut);
    if (!nl) break;
    sb_addc(&b, '\n');
    i = e + 1;
  }
  return sb_to_string(vm, &b);
}

static Value n_truncate(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  int64_t max = arg_int(vm, argv[1]);
  Value suffix = argc > 2 && is_string(argv[2]) ? argv[2] : str_new(vm, "...", 3);
  if (max < 0 || (uint64_t)max >= s_nchars(s)) return s;
  size_t sl = s_nchars(suffix);
  if ((size_t)max <= sl) return suffix;
  return concat3(vm, sub_bytes(vm, s, 0, str_byte_offset(s, (size_t)max - sl)), suffix, str_new(vm, "", 0));
}

static void replace_all_buf(StrBuf *b, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to), w = 0;
  if (!b->data) return;
  for (size_t r = 0; r < b->len;) {
    if (r + fl <= b->len && memcmp(b->data + r, from, fl) == 0) {
      memcpy(b->data + w, to, tl); /* tl <= fl: in place */
      w += tl, r += fl;
    } else {
      b->data[w++] = b->data[r++];
    }
  }
  b->len = w;
  b->data[w] = 0;
}

static Value n_strip_html(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), i = 0;
  StrBuf b;
  sb_init_vm(&b, vm);
  while (i < len) {
    const char *lt = memchr(p + i, '<', len - i);
    const char *gt = lt ? memchr(lt, '>', len - (size_t)(lt - p)) : NULL;
    if (!gt) {
      sb_add(&b, p + i, len - i);
      break;
    }
    sb_add(&b, p + i, (size_t)(lt - p) - i);
    i = (size_t)(gt - p) + 1;
  }
  static const char *const ents[][2] = {{"&amp;", "&"},  {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
                                        {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
  for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) replace_all_buf(&b, ents[k][0], ents[k][1]);
  return sb_to_string(vm, &b);
}

static Value n_split_sentences(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s), start = 0, adv;
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i <= len; i += adv) {
    bool end = i == len;
    adv = 1;
    if (!end) {
      char c = p[i];
      if (c != '.' && c != '!' && c != '?') {
        decode_at(p, i, &adv);
        continue;
      }
      size_t a2;
      if (i + 1 < len && !u_space(decode_at(p, i + 1, &a2))) continue;
    }
    size_t e = end ? len : i + 1;
    size_t b0 = start + trim_start(p + start, e - start), b1 = trim_end(p, e, b0);
    if (b1 > b0) list_add(vm, &lb, sub_bytes(vm, s, b0, b1));
    start = e;
    if (end) break;
  }
  return lb.head;
}

static Value n_chunk_by_sep(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), sep = S(vm, argv[1]);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = op_string_split(vm, s, sep); is_cons(l); l = cdr(l))
    if (str_len(car(l)) > 0) list_add(vm, &lb, car(l));
  return lb.head;
}

/* An integer option from a sorted-map opts argument, or dflt. */
static int64_t opt_int(VM *vm, Value opts, const char *key, int64_t dflt) {
  Value v;
  if (is_anymap(opts) && anymap_get(opts, KW(vm, key), &v) && is_int(v)) return int_of(v);
  return dflt;
}

/* ---- text/chunk ---- */

typedef struct {
  char **s;
  size_t *n;
  size_t count, cap;
} Chunks;

static void chunks_add(Chunks *c, const char *p, size_t n) {
  if (c->count == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 8;
    c->s = realloc(c->s, c->cap * sizeof *c->s);
    c->n = realloc(c->n, c->cap * sizeof *c->n);
    if (!c->s || !c->n) abort();
  }
  char *d = malloc(n + 1);
  if (!d) abort();
  memcpy(d, p, n);
  d[n] = 0;
  c->s[c->count] = d, c->n[c->count] = n;
  c->count++;
}

static void chunk_text(Chunks *out, const char *p, size_t len, size_t size, size_t overlap);

/* Split on sep, merge greedily, recurse into oversized parts, then overlap. */
static void chunk_on(Chunks *out, const char *p, size_t len, const char *sep, size_t size, size_t overlap) {
  size_t sl = strlen(sep);
  Chunks mine = {0};
  StrBuf cur;
  sb_init(&cur);
  for (size_t i = 0;;) {
    const char *h = find_bytes(p + i, len - i, sep, sl);
    size_t e = h ? (size_t)(h - p) : len, pl = e - i;
    size_t cand = cur.len ? cur.len + sl + pl : pl;
    if (cand <= size) {
      if (cur.len) sb_add(&cur, sep, sl);
      sb_add(&cur, p + i, pl);
    } else {
      if (cur.len) chunks_add(&mine, cur.data, cur.len);
      cur.len = 0;
      if (pl > size)
        chunk_text(&mine, p + i, pl, size, overlap);
      else
        sb_add(&cur, p + i, pl);
    }
    if (!h) break;
    i = e + sl;
  }
  if (cur.len) chunks_add(&mine, cur.data, cur.len);
  sb_free(&cur);
  for (size_t k = 0; k < mine.count; k++) {
    if (overlap > 0 && k > 0) { /* last `overlap` characters of the previous chunk, as it was */
      const char *prev = mine.s[k - 1];
      size_t pn = mine.n[k - 1], st = pn;
      for (size_t m = 0; m < overlap && st > 0; m++) st = prev_start(prev, st);
      StrBuf b;
      sb_init(&b);
      sb_add(&b, prev + st, pn - st);
      sb_add(&b, mine.s[k], mine.n[k]);
      chunks_add(out, b.data, b.len);
      sb_free(&b);
    } else {
      chunks_add(out, mine.s[k], mine.n[k]);
    }
  }
  for (size_t k = 0; k < mine.count; k++) free(mine.s[k]);
  free(mine.s), free(mine.n);
}

static void chunk_text(Chunks *out, const char *p, size_t len, size_t size, size_t overlap) {
  static const char *const seps[] = {"\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "};
  if (len <= size) {
    chunks_add(out, p, len);
    return;
  }
  for (size_t k = 0; k < sizeof seps / sizeof seps[0]; k++)
    if (find_bytes(p, len, seps[k], strlen(seps[k]))) {
      chunk_on(out, p, len, seps[k], size, overlap);
      return;
    }
  /* no separator: windows of `size` characters, advancing size - overlap */
  size_t step = size - overlap;
  for (size_t b0 = 0;;) {
    size_t b1 = skip_chars(p, len, b0, size);
    chunks_add(out, p + b0, b1 - b0);
    if (b1 >= len) break;
    b0 = skip_chars(p, len, b0, step);
  }
}

static Value n_chunk(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), opts = argc > 1 ? argv[1] : NIL_VAL;
  if (!is_objtype(opts, OBJ_MAP)) opts = NIL_VAL;
  int64_t size = opt_int(vm, opts, "size", 1000), overlap = opt_int(vm, opts, "overlap", 200);
  if (size < 1) size = 1;
  if (overlap < 0) overlap = 0;
  if (overlap >= size) overlap = 0;
  if (str_len(s) == 0) return EMPTY_VAL;
  Chunks c = {0};
  chunk_text(&c, str_data(s), str_len(s), (size_t)size, (size_t)overlap);
  ListBuilder lb;
  list_start(&lb);
  for (size_t k = 0; k < c.count; k++) {
    list_add(vm, &lb, str_new(vm, c.s[k], c.n[k]));
    free(c.s[k]);
  }
  free(c.s), free(c.n);
  return lb.head;
}

/* text/excerpt: case-insensitive (simple lowercase per character, so
 * character positions line up with the original). */
static Value n_excerpt(VM *vm, int argc, Value *argv) {
  Value s = S(vm, argv[0]), q = S(vm, argv[1]), opts = argc > 2 ? argv[2] : NIL_VAL;
  if (!is_objtype(opts, OBJ_MAP)) opts = NIL_VAL;
  int64_t radius = opt_int(vm, opts, "radius", 100);
  if (radius < 0) radius = 0;
  Value om = str_new(vm, "...", 3), ov;
  if (opts != NIL_VAL && anymap_get(opts, KW(vm, "omission"), &ov) && is_string(ov)) om = ov;
  size_t n = s_nchars(s), m = s_nchars(q), adv;
  uint32_t *a = malloc((n + m + 1) * sizeof *a), *b = a + n;
  if (!a) err_eval(vm, "text/excerpt: out of memory");
  size_t k = 0;
  for (size_t i = 0; i < str_len(s); i += adv) a[k++] = downcase1(decode_at(str_data(s), i, &adv));
  k = 0;
  for (size_t i = 0; i < str_len(q); i += adv) b[k++] = downcase1(decode_at(str_data(q), i, &adv));
  size_t pos = SIZE_MAX;
  for (size_t i = 0; m <= n && i <= n - m && pos == SIZE_MAX; i++)
    if (memcmp(a + i, b, m * sizeof *a) == 0) pos = i;
  free(a);
  if (pos == SIZE_MAX) return NIL_VAL;
  size_t st = pos > (uint64_t)radius ? pos - (size_t)radius : 0;
  size_t en = (uint64_t)(n - pos - m) > (uint64_t)radius ? pos + m + (size_t)radius : n;
  StrBuf sb;
  sb_init_vm(&sb, vm);
  if (st > 0) sb_add_str(&sb, om);
  size_t b0 = str_byte_offset(s, st);
  sb_add(&sb, str_data(s) + b0, skip_chars(str_data(s), str_len(s), b0, en - st) - b0);
  if (en < n) sb_add_str(&sb, om);
  return sb_to_string(vm, &sb);
}

static const NativeDef string_defs[] = {
    /* §11.1 */
    {"string/byte-length", n_byte_length, 1, 1,
     "(string/byte-length s)\nReturns the number of bytes of the UTF-8 encoding of s: (string/byte-length \"é\") is "
     "2."},
    {"string/width", n_width, 1, 1,
     "(string/width s)\nReturns the number of terminal columns s takes: ANSI escape sequences and zero-width "
     "characters count 0, East Asian wide characters and emoji 2, others 1."},
    {"string/repeat", n_repeat, 2, 2,
     "(string/repeat s n)\nReturns s repeated n times (n a non-negative integer): (string/repeat \"ab\" 3) is "
     "\"ababab\". The string comes first, also for make-string."},
    {"string/intern", n_intern, 1, 1,
     "(string/intern s)\nReturns a string equal to s that shares its storage with earlier interned equal strings (a "
     "hint for map keys; equality is structural anyway)."},
    /* §11.2 */
    {"substring", n_substring, 2, 3,
     "(substring s start [end])\nReturns the characters of s from index start up to but not including end (default: "
     "the length): (substring \"hello\" 1 3) is \"el\". Indices out of range are an error."},
    {"string/take", n_take, 2, 2,
     "(string/take s n)\nReturns the first n characters of s, or the last -n when n is negative, clamped to the "
     "length."},
    {"string->list", n_to_list, 1, 1,
     "(string->list s)\nReturns the list of the characters of s."},
    {"string/chars", n_to_list, 1, 1,
     "(string/chars s)\nReturns the list of the characters of s (the same as string->list)."},
    {"list->string", n_list_to_string, 1, 1,
     "(list->string chars)\nReturns the string of the characters in the list chars."},
    {"string/codepoints", n_codepoints, 1, 1,
     "(string/codepoints s)\nReturns the list of the Unicode scalar values of the characters of s, as integers."},
    {"string/from-codepoints", n_from_codepoints, 1, 1,
     "(string/from-codepoints seq)\nReturns the string of the code points in the list or vector seq; a surrogate or a"
     " value above 0x10FFFF is an error."},
    {"string/after", n_after, 2, 2,
     "(string/after s needle)\nReturns the text of s after the first occurrence of needle, or s unchanged when needle"
     " does not occur."},
    {"string/after-last", n_after_last, 2, 2,
     "(string/after-last s needle)\nReturns the text of s after the last occurrence of needle, or s unchanged when "
     "needle does not occur."},
    {"string/before", n_before, 2, 2,
     "(string/before s needle)\nReturns the text of s before the first occurrence of needle, or s unchanged when "
     "needle does not occur."},
    {"string/before-last", n_before_last, 2, 2,
     "(string/before-last s needle)\nReturns the text of s before the last occurrence of needle, or s unchanged when "
     "needle does not occur."},
    {"string/between", n_between, 3, 3,
     "(string/between s left right)\nReturns the text after the first left up to the next right (\"\" when left does "
     "not occur; the rest of s when right does not follow)."},
    /* §11.3 */
    {"string/contains?", n_contains, 2, 2,
     "(string/contains? s sub)\nReturns #t when sub occurs in s (\"\" occurs in every string)."},
    {"string/starts-with?", n_starts_with, 2, 2,
     "(string/starts-with? s prefix)\nReturns #t when s starts with prefix."},
    {"string/ends-with?", n_ends_with, 2, 2,
     "(string/ends-with? s suffix)\nReturns #t when s ends with suffix."},
    {"string/index-of", n_index_of, 2, 2,
     "(string/index-of s sub)\nReturns the character index of the first occurrence of sub in s, or nil."},
    {"string/last-index-of", n_last_index_of, 2, 2,
     "(string/last-index-of s sub)\nReturns the character index where the last occurrence of sub in s starts, or nil."},
    {"string/empty?", n_empty, 1, 1,
     "(string/empty? s)\nReturns #t when the string s is \"\"."},
    {"string/number?", n_number_p, 1, 1,
     "(string/number? s)\nReturns #t when string->number would succeed on s: (string/number? \"1e3\") is #t, "
     "(string/number? \" 1\") is #f."},
    {"string-ci=?", n_ci_eq, 2, 2,
     "(string-ci=? a b)\nReturns #t when the strings a and b are equal after full Unicode case folding: (string-ci=? "
     "\"Straße\" \"STRASSE\") is #t."},
    /* §11.4 */
    {"string/split", n_split, 2, 2,
     "(string/split s sep)\nSplits s on every occurrence of the literal string sep, keeping empty fields: "
     "(string/split \"a,,b\" \",\") is (\"a\" \"\" \"b\"). An empty sep splits between the characters."},
    {"string/lines", n_lines, 1, 1,
     "(string/lines s)\nSplits s into lines at \\n, dropping a \\r before it; a final line break does not give an "
     "empty last line."},
    {"string/join", n_join, 2, 2,
     "(string/join seq sep)\nReturns the display forms of the elements of seq (strings raw) joined with sep: "
     "(string/join '(\"a\" 1) \"-\") is \"a-1\"."},
    {"string/words", n_words, 1, 1,
     "(string/words s)\nSplits s into identifier words at spaces, punctuation and case changes, case kept: "
     "(string/words \"getHTTPResponse\") is (\"get\" \"HTTP\" \"Response\")."},
    /* §11.5 */
    {"string/trim", n_trim, 1, 1,
     "(string/trim s)\nReturns s without leading and trailing whitespace."},
    {"string/trim-left", n_trim_left, 1, 1,
     "(string/trim-left s)\nReturns s without leading whitespace."},
    {"string/trim-right", n_trim_right, 1, 1,
     "(string/trim-right s)\nReturns s without trailing whitespace."},
    {"string/pad-left", n_pad_left, 2, 3,
     "(string/pad-left s width [pad])\nPrepends copies of the first character of pad (default a space) until s has "
     "width characters; a longer s is unchanged."},
    {"string/pad-right", n_pad_right, 2, 3,
     "(string/pad-right s width [pad])\nAppends copies of the first character of pad (default a space) until s has "
     "width characters; a longer s is unchanged."},
    {"string/replace", n_replace, 3, 3,
     "(string/replace s from to)\nReplaces every occurrence of the literal string from in s by to, left to right."},
    {"string/replace-first", n_replace_first, 3, 3,
     "(string/replace-first s from to)\nReplaces the first occurrence of from in s by to (s unchanged when it does "
     "not occur)."},
    {"string/replace-last", n_replace_last, 3, 3,
     "(string/replace-last s from to)\nReplaces the last occurrence of from in s by to (s unchanged when it does not "
     "occur)."},
    {"string/remove", n_remove, 2, 2,
     "(string/remove s sub)\nReturns s without any occurrence of sub."},
    {"string/chop-start", n_chop_start, 2, 2,
     "(string/chop-start s prefix)\nReturns s without prefix when it starts with it, else s."},
    {"string/chop-end", n_chop_end, 2, 2,
     "(string/chop-end s suffix)\nReturns s without suffix when it ends with it, else s."},
    {"string/ensure-start", n_ensure_start, 2, 2,
     "(string/ensure-start s prefix)\nReturns s starting with prefix, adding it when missing."},
    {"string/ensure-end", n_ensure_end, 2, 2,
     "(string/ensure-end s suffix)\nReturns s ending with suffix, adding it when missing: (string/ensure-end \"path\""
     " \"/\") is \"path/\"."},
    {"string/wrap", n_wrap, 2, 3,
     "(string/wrap s left [right])\nReturns left, s and right (default: left) concatenated: (string/wrap \"x\" "
     "\"**\") is \"**x**\"."},
    {"string/unwrap", n_unwrap, 2, 3,
     "(string/unwrap s left [right])\nReturns s without left and right (default: left) when it starts and ends with "
     "them, else s."},
    {"string/reverse", n_reverse, 1, 1,
     "(string/reverse s)\nReturns the characters of s in reverse order."},
    {"string/map", n_map, 2, 2,
     "(string/map fn s)\nReturns the concatenation of (fn c) for each character c of s; each result must be a "
     "character or a string."},
    /* §11.6 */
    {"string/upper", n_upper, 1, 1,
     "(string/upper s)\nReturns s in upper case, with the full Unicode mapping (one character may become several: "
     "\"straße\" gives \"STRASSE\")."},
    {"string/lower", n_lower, 1, 1,
     "(string/lower s)\nReturns s in lower case, with the full Unicode mapping (and the final-sigma rule)."},
    {"string/capitalize", n_capitalize, 1, 1,
     "(string/capitalize s)\nReturns s with its first character in upper case and every other character in lower "
     "case."},
    {"string/title-case", n_title_case, 1, 1,
     "(string/title-case s)\nCapitalizes each whitespace-separated word of s and joins the words with single spaces."},
    {"string/snake-case", n_snake, 1, 1,
     "(string/snake-case s)\nReturns the identifier words of s in lower case joined with _: (string/snake-case "
     "\"HTMLParser\") is \"html_parser\"."},
    {"string/kebab-case", n_kebab, 1, 1,
     "(string/kebab-case s)\nReturns the identifier words of s in lower case joined with -: (string/kebab-case "
     "\"helloWorld\") is \"hello-world\"."},
    {"string/camel-case", n_camel, 1, 1,
     "(string/camel-case s)\nReturns the identifier words of s joined, the first in lower case and the others "
     "capitalized: \"hello_world\" gives \"helloWorld\"."},
    {"string/pascal-case", n_pascal, 1, 1,
     "(string/pascal-case s)\nReturns the identifier words of s capitalized and joined: \"hello world\" gives "
     "\"HelloWorld\"."},
    {"string/headline", n_headline, 1, 1,
     "(string/headline s)\nReturns the identifier words of s capitalized and joined with spaces: \"helloWorld\" gives"
     " \"Hello World\"."},
    {"string/foldcase", n_foldcase, 1, 1,
     "(string/foldcase s)\nReturns the full Unicode case folding of s, for caseless comparison: \"Straße\" gives "
     "\"strasse\"."},
    {"string/normalize", n_normalize, 2, 2,
     "(string/normalize s form)\nReturns the Unicode normalization of s in form, a string or keyword naming nfc, nfd,"
     " nfkc or nfkd."},
    {"string/word-wrap", n_word_wrap, 2, 2,
     "(string/word-wrap text width)\nReturns the list of lines of text filled greedily to at most width terminal "
     "columns; each paragraph (separated by \\n) is wrapped on its own, and a longer word gets a line of its own."},
    /* §12 */
    {"char->integer", n_char_to_int, 1, 1,
     "(char->integer c)\nReturns the Unicode scalar value of the character c: (char->integer #\\A) is 65."},
    {"integer->char", n_int_to_char, 1, 1,
     "(integer->char n)\nReturns the character with scalar value n; a surrogate or a value above 0x10FFFF is an "
     "error."},
    {"char->string", n_char_to_string, 1, 1,
     "(char->string c)\nReturns the one-character string of c."},
    {"string->char", n_string_to_char, 1, 1,
     "(string->char s)\nReturns the only character of the string s; a string that does not hold exactly one character"
     " is an error."},
    {"char-alphabetic?", n_alphabetic, 1, 1,
     "(char-alphabetic? c)\nReturns #t when c has the Unicode Alphabetic property."},
    {"char-numeric?", n_numeric, 1, 1,
     "(char-numeric? c)\nReturns #t when c is a Unicode number (general category Nd, Nl or No)."},
    {"char-whitespace?", n_whitespace, 1, 1,
     "(char-whitespace? c)\nReturns #t when c has the Unicode White_Space property."},
    {"char-upper-case?", n_upper_case, 1, 1,
     "(char-upper-case? c)\nReturns #t when c has the Unicode Uppercase property."},
    {"char-lower-case?", n_lower_case, 1, 1,
     "(char-lower-case? c)\nReturns #t when c has the Unicode Lowercase property."},
    {"char-upcase", n_char_upcase, 1, 1,
     "(char-upcase c)\nReturns the first character of the upper-case mapping of c, or c when it has none: "
     "(char-upcase #\\ß) is #\\S."},
    {"char-downcase", n_char_downcase, 1, 1,
     "(char-downcase c)\nReturns the first character of the lower-case mapping of c, or c when it has none."},
    {"char=?", n_char_eq, 2, 2,
     "(char=? a b)\nReturns #t when the characters a and b are the same."},
    {"char<?", n_char_lt, 2, 2,
     "(char<? a b)\nReturns #t when the scalar value of a is less than that of b."},
    {"char>?", n_char_gt, 2, 2,
     "(char>? a b)\nReturns #t when the scalar value of a is greater than that of b."},
    {"char<=?", n_char_le, 2, 2,
     "(char<=? a b)\nReturns #t when the scalar value of a is at most that of b."},
    {"char>=?", n_char_ge, 2, 2,
     "(char>=? a b)\nReturns #t when the scalar value of a is at least that of b."},
    {"char-ci=?", n_char_ci_eq, 2, 2,
     "(char-ci=? a b)\nReturns #t when a and b are the same character ignoring case (compared by their lower-case "
     "mapping)."},
    {"char-ci<?", n_char_ci_lt, 2, 2,
     "(char-ci<? a b)\nCompares the lower-case mappings of a and b: #t when a comes first."},
    {"char-ci>?", n_char_ci_gt, 2, 2,
     "(char-ci>? a b)\nCompares the lower-case mappings of a and b: #t when a comes after b."},
    {"char-ci<=?", n_char_ci_le, 2, 2,
     "(char-ci<=? a b)\nCompares the lower-case mappings of a and b: #t unless a comes after b."},
    {"char-ci>=?", n_char_ci_ge, 2, 2,
     "(char-ci>=? a b)\nCompares the lower-case mappings of a and b: #t unless a comes before b."},
    /* §14 */
    {"text/clean-whitespace", n_clean_ws, 1, 1,
     "(text/clean-whitespace s)\nReturns the whitespace-separated words of s joined with single spaces."},
    {"text/word-count", n_word_count, 1, 1,
     "(text/word-count s)\nReturns the number of whitespace-separated words of s."},
    {"text/normalize-newlines", n_normalize_newlines, 1, 1,
     "(text/normalize-newlines s)\nReturns s with every \\r\\n and every lone \\r turned into \\n."},
    {"text/trim-indent", n_trim_indent, 1, 1,
     "(text/trim-indent s)\nRemoves from every line of s the smallest indentation of its non-blank lines."},
    {"text/truncate", n_truncate, 2, 3,
     "(text/truncate s max [suffix])\nReturns s when it has at most max characters, else its first characters "
     "followed by suffix (default \"...\") in max characters."},
    {"text/strip-html", n_strip_html, 1, 1,
     "(text/strip-html s)\nReturns s without its <...> tags and with the entities &amp; &lt; &gt; &quot; &#39; &apos;"
     " &nbsp; decoded."},
    {"text/split-sentences", n_split_sentences, 1, 1,
     "(text/split-sentences s)\nSplits s after each ., ! or ? followed by whitespace or the end; returns the trimmed "
     "non-empty sentences."},
    {"text/chunk-by-separator", n_chunk_by_sep, 2, 2,
     "(text/chunk-by-separator s sep)\nSplits s on the literal string sep and returns the non-empty pieces."},
    {"text/chunk", n_chunk, 1, 2,
     "(text/chunk s [opts])\nSplits long text into chunks of at most :size bytes (default 1000) overlapping by "
     ":overlap (default 200), cutting at paragraph, line, sentence, clause or word boundaries where it can."},
    {"text/excerpt", n_excerpt, 2, 3,
     "(text/excerpt s query [opts])\nReturns the text around the first case-insensitive occurrence of query, :radius "
     "characters (default 100) on each side, with :omission (default \"...\") where it was cut; nil when query does "
     "not occur."},
    {NULL, NULL, 0, 0},
};

void lib_strlib_init(VM *vm) {
  env_register(vm, string_defs);
  static const char *const aliases[][2] = {
      {"make-string", "string/repeat"},      {"string/slice", "substring"},
      {"string/to-list", "string->list"},    {"string-split", "string/split"},
      {"string-join", "string/join"},        {"string-trim", "string/trim"},
      {"string-upcase", "string/upper"},     {"string-downcase", "string/lower"},
      {"char/to-integer", "char->integer"},  {"integer/to-char", "integer->char"},
      {"char/to-string", "char->string"},    {"string/to-char", "string->char"},
      {"char/alphabetic?", "char-alphabetic?"}, {"char/numeric?", "char-numeric?"},
      {"char/whitespace?", "char-whitespace?"}, {"char/upper-case?", "char-upper-case?"},
      {"char/lower-case?", "char-lower-case?"}, {"char/upcase", "char-upcase"},
      {"char/downcase", "char-downcase"},
  };
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) env_alias(vm, aliases[i][0], aliases[i][1]);
  Value f = env_get(vm, "string->number");
  if (is_native(f)) string_to_number_fn = as_native(f)->fn;
}
