// The model file reader (model_file.h): zip directory, CRC-32, .npy headers and JSON.
#include "model_file.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace minrnn::detail {

// ---- JSON ----
const Json* Json::find(const std::string& key) const {
  if (kind != Object) return nullptr;
  for (auto m = members.rbegin(); m != members.rend(); ++m)
    if (m->first == key) return &m->second;
  return nullptr;
}

namespace {

struct JsonParser {
  const std::string& s;
  size_t i = 0;
  int depth = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError("invalid JSON at offset " + std::to_string(i) + ": " + what);
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (s.compare(i, n, word) != 0) return false;
    i += n;
    return true;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18)), out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i + 4 > s.size()) fail("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string string() {
    if (s[i] != '"') fail("expected a string");
    ++i;
    std::string out;
    while (true) {
      if (i >= s.size()) fail("unterminated string");
      const char c = s[i++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) fail("unterminated escape");
      const char e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          // Python's json escapes characters beyond the BMP as surrogate pairs.
          if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
            i += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  Json value() {
    if (++depth > 64) fail("nested too deeply");
    ws();
    if (i >= s.size()) fail("unexpected end");
    Json v;
    const char c = s[i];
    if (c == '{') {
      v.kind = Json::Object;
      ++i;
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
      } else {
        while (true) {
          ws();
          if (i >= s.size()) fail("unexpected end");
          std::string key = string();
          ws();
          if (i >= s.size() || s[i] != ':') fail("expected ':'");
          ++i;
          v.members.emplace_back(std::move(key), value());
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == '}') { ++i; break; }
          fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      v.kind = Json::Array;
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
      } else {
        while (true) {
          v.items.push_back(value());
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == ']') { ++i; break; }
          fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.kind = Json::String;
      v.str = string();
    } else if (literal("true")) {
      v.kind = Json::Bool, v.boolean = true;
    } else if (literal("false")) {
      v.kind = Json::Bool;
    } else if (literal("null")) {
      v.kind = Json::Null;
    } else if (literal("NaN")) {  // Python writes these for non-finite floats
      v.kind = Json::Number, v.number = NAN;
    } else if (literal("Infinity")) {
      v.kind = Json::Number, v.number = INFINITY;
    } else if (literal("-Infinity")) {
      v.kind = Json::Number, v.number = -INFINITY;
    } else {
      const char* begin = s.c_str() + i;
      char* end = nullptr;
      v.number = std::strtod(begin, &end);
      if (end == begin) fail("unexpected character");
      v.kind = Json::Number;
      v.integer = std::find_if(begin, static_cast<const char*>(end), [](char ch) {
                    return ch == '.' || ch == 'e' || ch == 'E';
                  }) == end;
      i += size_t(end - begin);
    }
    --depth;
    return v;
  }
};

// ---- zip ----
uint32_t crc32(const unsigned char* p, size_t n) {
  static uint32_t table[256];
  static const bool ready = [] {
    for (uint32_t k = 0; k < 256; ++k) {
      uint32_t c = k;
      for (int j = 0; j < 8; ++j) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[k] = c;
    }
    return true;
  }();
  (void)ready;
  uint32_t c = 0xFFFFFFFFu;
  for (size_t k = 0; k < n; ++k) c = table[(c ^ p[k]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

struct Bytes {
  const std::string& s;
  const ModelFile& f;
  uint64_t u(size_t at, int n) const {
    if (at + size_t(n) > s.size() || at + size_t(n) < at) f.fail("truncated (read past the end)");
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(s[at + size_t(k)]);
    return v;
  }
};

}  // namespace

Json parse_json(const std::string& text) {
  JsonParser p{text};
  Json v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters");
  return v;
}

bool utf8_code_points(const std::string& s, std::vector<uint32_t>& out) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + size_t(n) > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (int k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF) return false;
    out.push_back(cp);
    i += size_t(n);
  }
  return true;
}

void fail_file(const std::string& path, const std::string& what) {
  throw ModelError(path + ": not a readable minrnn model file (" + what + ")");
}

void ModelFile::fail(const std::string& what) const { fail_file(path, what); }

const Json& ModelFile::get(const Json& obj, const std::string& key, Json::Kind kind) const {
  const Json* v = obj.find(key);
  if (!v) fail("meta has no '" + key + "'");
  if (v->kind != kind) fail("meta '" + key + "' has the wrong type");
  return *v;
}

int64_t ModelFile::get_int(const Json& obj, const std::string& key) const {
  const Json& v = get(obj, key, Json::Number);
  if (!v.integer || !(v.number >= 0 && v.number < 9.0e15)) fail("meta '" + key + "' is not a size");
  return int64_t(v.number);
}

const ModelFile::Entry* ModelFile::find(const std::string& name) const {
  const auto it = entries.find(name);
  return it == entries.end() ? nullptr : &it->second;
}

namespace {
// Bytes per element of a plain numeric .npy type ('<f4', '|u1', '<i8', ...); 0 for others.
size_t item_size(const std::string& descr) {
  if (descr.size() < 3 || !std::strchr("<>|=", descr[0]) || !std::strchr("fiubc", descr[1])) return 0;
  size_t n = 0;
  for (size_t k = 2; k < descr.size(); ++k) {
    if (descr[k] < '0' || descr[k] > '9' || n > 64) return 0;
    n = n * 10 + size_t(descr[k] - '0');
  }
  return n;
}

// The header of the .npy entry `name` that lies at bytes [at, at + size).
ModelFile::Entry npy(const ModelFile& f, const std::string& name, size_t at, size_t size) {
  const std::string& b = f.bytes;
  if (size < 10 || b.compare(at, 6, "\x93NUMPY") != 0) f.fail("array " + name + " is not .npy");
  const int major = static_cast<unsigned char>(b[at + 6]);
  if (major < 1 || major > 3) f.fail("array " + name + " is .npy version " + std::to_string(major));
  Bytes r{b, f};
  const size_t hl = major == 1 ? size_t(r.u(at + 8, 2)) : size_t(r.u(at + 8, 4));
  const size_t start = major == 1 ? 10 : 12;
  if (size < start || hl > size - start) f.fail("array " + name + " has a truncated header");
  const std::string h = b.substr(at + start, hl);
  auto field = [&](const char* key) {
    const size_t k = h.find(key);
    if (k == std::string::npos) f.fail("array " + name + " header lacks " + key);
    return k + std::strlen(key);
  };
  ModelFile::Entry e;
  size_t k = h.find('\'', field("'descr':"));
  const size_t q = k == std::string::npos ? k : h.find('\'', k + 1);
  if (q == std::string::npos) f.fail("array " + name + " has a bad descr");
  e.descr = h.substr(k + 1, q - k - 1);
  k = field("'fortran_order':");
  while (k < h.size() && h[k] == ' ') ++k;
  if (h.compare(k, 5, "False") != 0) f.fail("array " + name + " is in Fortran order");
  k = h.find('(', field("'shape':"));
  const size_t close = h.find(')', k);
  if (k == std::string::npos || close == std::string::npos) f.fail("array " + name + " has a bad shape");
  int64_t count = 1;
  for (size_t p = k + 1; p < close;) {
    while (p < close && (h[p] == ' ' || h[p] == ',')) ++p;
    if (p >= close) break;
    char* end = nullptr;
    const long long d = std::strtoll(h.c_str() + p, &end, 10);
    if (end == h.c_str() + p || d < 0 || d > (1ll << 40)) f.fail("array " + name + " has a bad shape");
    if (d != 0 && count > (1ll << 40) / d) f.fail("array " + name + " is too large");
    e.shape.push_back(d);
    count *= d;
    p = size_t(end - h.c_str());
  }
  const size_t item = item_size(e.descr);
  if (item == 0) f.fail("array " + name + " has type " + e.descr + " (expected a plain numeric type)");
  e.data = at + start + hl;
  e.size = size - start - hl;
  if (e.size != size_t(count) * item)
    f.fail("array " + name + " holds " + std::to_string(e.size) + " bytes, its shape needs " +
           std::to_string(size_t(count) * item));
  return e;
}

void read_bytes(ModelFile& f) {
  // Only a regular file: a directory, a FIFO or /dev/zero has no size to read by (the
  // last never ends).
  std::error_code ec;
  const auto status = std::filesystem::status(f.path, ec);
  if (!std::filesystem::exists(status))
    throw ModelError(f.path + ": cannot open the file (" + (ec ? ec.message() : "it does not exist") + ")");
  if (!std::filesystem::is_regular_file(status)) f.fail("not a regular file");
  const auto size = std::filesystem::file_size(f.path, ec);
  std::ifstream in(f.path, std::ios::binary);
  if (ec || !in) throw ModelError(f.path + ": cannot open the file");
  f.bytes.resize(size_t(size));
  in.read(f.bytes.data(), std::streamsize(size));
  if (!in || in.gcount() != std::streamsize(size)) f.fail("cannot read the file's " + std::to_string(size) + " bytes");
}

// The zip directory: every entry stored, CRC-checked, named alike in the directory and its
// local header, and an .npy array whose header is read into f.entries.
void read_zip(ModelFile& f) {
  const std::string& s = f.bytes;
  Bytes r{s, f};
  // a zip archive starts with a local header, or with the end record if it is empty
  if (s.size() < 22 || (s.compare(0, 4, "PK\3\4") != 0 && s.compare(0, 4, "PK\5\6") != 0))
    f.fail("not a zip archive");
  // The end-of-central-directory record: the last "PK\5\6" within 64 KiB of the end.
  size_t eocd = std::string::npos;
  for (size_t p = s.size() - 22 + 1; p-- > 0 && s.size() - p <= 65557;)
    if (r.u(p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  if (eocd == std::string::npos) f.fail("no zip directory");
  uint64_t entries = r.u(eocd + 10, 2), cd = r.u(eocd + 16, 4);
  if ((cd == 0xFFFFFFFFu || entries == 0xFFFF) && eocd >= 20 && r.u(eocd - 20, 4) == 0x07064b50) {
    const uint64_t z = r.u(eocd - 20 + 8, 8);  // the zip64 end record
    if (r.u(size_t(z), 4) != 0x06064b50) f.fail("bad zip64 directory");
    entries = r.u(size_t(z) + 32, 8);
    cd = r.u(size_t(z) + 48, 8);
  }
  size_t p = size_t(cd);
  for (uint64_t e = 0; e < entries; ++e) {
    if (r.u(p, 4) != 0x02014b50) f.fail("bad zip directory entry");
    const uint64_t method = r.u(p + 10, 2), crc = r.u(p + 16, 4);
    uint64_t csize = r.u(p + 20, 4), usize = r.u(p + 24, 4), local = r.u(p + 42, 4);
    const size_t nlen = size_t(r.u(p + 28, 2)), xlen = size_t(r.u(p + 30, 2)),
                 clen = size_t(r.u(p + 32, 2));
    if (p + 46 + nlen > s.size()) f.fail("truncated zip directory");
    std::string name = s.substr(p + 46, nlen);
    // zip64 extra field: the 64-bit sizes and offset that did not fit, in this order
    for (size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const uint64_t id = r.u(x, 2), len = r.u(x + 2, 2);
      if (id == 1) {
        size_t q = x + 4;
        if (usize == 0xFFFFFFFFu) usize = r.u(q, 8), q += 8;
        if (csize == 0xFFFFFFFFu) csize = r.u(q, 8), q += 8;
        if (local == 0xFFFFFFFFu) local = r.u(q, 8);
      }
      x += 4 + size_t(len);
    }
    if (method != 0) f.fail("entry " + name + " is compressed (write with np.savez, not savez_compressed)");
    if (csize != usize) f.fail("entry " + name + " has inconsistent sizes");
    if (r.u(size_t(local), 4) != 0x04034b50) f.fail("bad local header of " + name);
    const size_t lname = size_t(r.u(size_t(local) + 26, 2)), lextra = size_t(r.u(size_t(local) + 28, 2));
    if (lname != nlen || s.compare(size_t(local) + 30, nlen, name) != 0)
      f.fail("entry " + name + " has another name in its local header");
    const size_t data = size_t(local) + 30 + lname + lextra;
    if (data > s.size() || usize > s.size() - data) f.fail("entry " + name + " is truncated");
    if (crc32(reinterpret_cast<const unsigned char*>(s.data() + data), size_t(usize)) != crc)
      f.fail("entry " + name + " fails its CRC check");
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      f.fail("entry " + name + " is not an .npy array");
    name.resize(name.size() - 4);
    if (f.entries.count(name)) f.fail("entry " + name + ".npy appears twice");
    f.entries.emplace(name, npy(f, name, data, size_t(usize)));
    p += 46 + nlen + xlen + clen;
  }
}

// meta: UTF-8 JSON, a minrnn checkpoint of format version 1, listing every other array
// with its shape and type.
void read_meta(ModelFile& f) {
  const auto it = f.entries.find("meta");
  if (it == f.entries.end()) f.fail("no meta entry");
  const ModelFile::Entry m = it->second;
  f.entries.erase(it);
  if (m.descr != "|u1" || m.shape.size() != 1) f.fail("meta is not text");
  const std::string text = f.bytes.substr(m.data, m.size);
  std::vector<uint32_t> code_points;
  if (!utf8_code_points(text, code_points)) f.fail("meta is not UTF-8");
  try {
    f.meta = parse_json(text);
  } catch (const ModelError& e) {
    f.fail(std::string("meta: ") + e.what());
  }
  if (f.meta.kind != Json::Object) f.fail("meta is not an object");
  const Json* fmt = f.meta.find("format");
  if (!fmt || fmt->kind != Json::String || fmt->str != "minrnn-checkpoint") f.fail("not a minrnn checkpoint");
  const double version = f.get(f.meta, "version", Json::Number).number;
  if (version != 1) {
    char v[32];
    std::snprintf(v, sizeof v, "%g", version);
    f.fail(std::string("format version ") + v + ", this minrnn reads 1");
  }
  std::set<std::string> listed;
  for (const auto& [name, v] : f.get(f.meta, "arrays", Json::Object).members) {
    const ModelFile::Entry* e = f.find(name);
    if (!e) f.fail("meta lists an array '" + name + "' that the file does not hold");
    std::vector<int64_t> shape;
    const bool pair = v.kind == Json::Array && v.items.size() == 2 && v.items[0].kind == Json::Array &&
                      v.items[1].kind == Json::String;
    for (const Json& d : pair ? v.items[0].items : std::vector<Json>()) {
      if (d.kind != Json::Number || !d.integer || !(d.number >= 0 && d.number < 9.0e15))
        f.fail("meta 'arrays' gives '" + name + "' a shape that is not sizes");
      shape.push_back(int64_t(d.number));
    }
    if (!pair) f.fail("meta 'arrays' gives '" + name + "' no [shape, type]");
    if (shape != e->shape || v.items[1].str != e->descr)
      f.fail("array '" + name + "' is " + e->descr + shape_str(e->shape) + ", meta says " + v.items[1].str +
             shape_str(shape));
    listed.insert(name);
  }
  for (const auto& [name, e] : f.entries)
    if (!listed.count(name)) f.fail("array '" + name + "' is not listed in meta");
}
}  // namespace

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "(";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + (s.size() == 1 ? ",)" : ")");
}

NpyArray ModelFile::array(const std::string& name) const {
  const Entry* e = find(name);
  if (!e) fail("no array '" + name + "'");
  if (e->descr != "<f4" && e->descr != "<f8") fail("array '" + name + "' is " + e->descr + ", not float32 or float64");
  NpyArray a;
  a.shape = e->shape;
  const char* src = bytes.data() + e->data;
  const size_t n = e->size / (e->descr == "<f4" ? 4 : 8);
  a.data.resize(n);
  if (e->descr == "<f4") {
    if (n) std::memcpy(a.data.data(), src, n * 4);
  } else {
    for (size_t k = 0; k < n; ++k) {
      double d;
      std::memcpy(&d, src + 8 * k, 8);
      a.data[k] = float(d);
    }
  }
  return a;
}

ModelFile read_model_file(const std::string& path) {
  ModelFile f;
  f.path = path;
  naming_file(path, [&] {
    read_bytes(f);
    read_zip(f);
    read_meta(f);
  });
  return f;
}

}  // namespace minrnn::detail
