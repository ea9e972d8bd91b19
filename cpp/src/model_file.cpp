// The model file reader (model_file.h): zip directory, CRC-32, .npy headers and JSON.
#include "model_file.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace minrnn::detail {

// ---- JSON ----
const Json* Json::find(const std::string& key) const {
  if (kind != Object) return nullptr;
  for (const auto& [k, v] : members)
    if (k == key) return &v;
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

void ModelFile::fail(const std::string& what) const {
  throw ModelError(path + ": not a readable minrnn model file (" + what + ")");
}

const Json& ModelFile::get(const Json& obj, const std::string& key, Json::Kind kind) const {
  const Json* v = obj.find(key);
  if (!v) fail("meta has no '" + key + "'");
  if (v->kind != kind) fail("meta '" + key + "' has the wrong type");
  return *v;
}

int64_t ModelFile::get_int(const Json& obj, const std::string& key) const {
  const double d = get(obj, key, Json::Number).number;
  if (!(d >= 0 && d < 9.0e15) || d != std::floor(d)) fail("meta '" + key + "' is not a size");
  return int64_t(d);
}

namespace {
// Parses an .npy entry; returns the element type ('f4', 'f8', 'u1') and the data bytes.
std::pair<std::string, std::string> npy(const ModelFile& f, const std::string& name,
                                        const std::string& b, std::vector<int64_t>& shape) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) f.fail("array " + name + " is not .npy");
  const int major = static_cast<unsigned char>(b[6]);
  Bytes r{b, f};
  const size_t hl = major == 1 ? size_t(r.u(8, 2)) : size_t(r.u(8, 4));
  const size_t start = major == 1 ? 10 : 12;
  if (start + hl > b.size()) f.fail("array " + name + " has a truncated header");
  const std::string h = b.substr(start, hl);
  auto field = [&](const char* key) {
    const size_t k = h.find(key);
    if (k == std::string::npos) f.fail("array " + name + " header lacks " + key);
    return k + std::strlen(key);
  };
  size_t k = h.find('\'', field("'descr':"));
  const size_t e = h.find('\'', k + 1);
  if (k == std::string::npos || e == std::string::npos) f.fail("array " + name + " has a bad descr");
  const std::string descr = h.substr(k + 1, e - k - 1);
  k = field("'fortran_order':");
  while (k < h.size() && h[k] == ' ') ++k;
  if (h.compare(k, 5, "False") != 0) f.fail("array " + name + " is in Fortran order");
  k = h.find('(', field("'shape':"));
  const size_t close = h.find(')', k);
  if (k == std::string::npos || close == std::string::npos) f.fail("array " + name + " has a bad shape");
  shape.clear();
  int64_t count = 1;
  for (size_t p = k + 1; p < close;) {
    while (p < close && (h[p] == ' ' || h[p] == ',')) ++p;
    if (p >= close) break;
    char* end = nullptr;
    const long long d = std::strtoll(h.c_str() + p, &end, 10);
    if (end == h.c_str() + p || d < 0 || d > (1ll << 40)) f.fail("array " + name + " has a bad shape");
    shape.push_back(d);
    count *= d;
    if (count > (1ll << 40)) f.fail("array " + name + " is too large");
    p = size_t(end - h.c_str());
  }
  std::string type;
  size_t item = 0;
  if (descr == "<f4") type = "f4", item = 4;
  else if (descr == "<f8") type = "f8", item = 8;
  else if (descr == "|u1") type = "u1", item = 1;
  else f.fail("array " + name + " has type " + descr + " (expected float32, float64 or uint8)");
  const size_t data = start + hl;
  if (b.size() - data != size_t(count) * item)
    f.fail("array " + name + " holds " + std::to_string(b.size() - data) + " bytes, its shape needs " +
           std::to_string(size_t(count) * item));
  return {type, b.substr(data)};
}
}  // namespace

NpyArray ModelFile::array(const std::string& name) const {
  auto it = entries.find(name);
  if (it == entries.end()) fail("no array '" + name + "'");
  NpyArray a;
  auto [type, bytes] = npy(*this, name, it->second, a.shape);
  if (type == "u1") fail("array '" + name + "' is not a float array");
  const size_t n = bytes.size() / (type == "f4" ? 4 : 8);
  a.data.resize(n);
  if (type == "f4") {
    if (n) std::memcpy(a.data.data(), bytes.data(), n * 4);
  } else {
    for (size_t k = 0; k < n; ++k) {
      double d;
      std::memcpy(&d, bytes.data() + 8 * k, 8);
      a.data[k] = float(d);
    }
  }
  return a;
}

ModelFile read_model_file(const std::string& path) {
  ModelFile f;
  f.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path + ": cannot open the file");
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Bytes r{s, f};
  // The end-of-central-directory record: the last "PK\5\6" within 64 KiB of the end.
  if (s.size() < 22) f.fail("too short for a zip archive");
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
    const size_t data = size_t(local) + 30 + size_t(r.u(size_t(local) + 26, 2)) +
                        size_t(r.u(size_t(local) + 28, 2));
    if (data > s.size() || usize > s.size() - data) f.fail("entry " + name + " is truncated");
    std::string bytes = s.substr(data, size_t(usize));
    if (crc32(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != crc)
      f.fail("entry " + name + " fails its CRC check");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    f.entries[name] = std::move(bytes);
    p += 46 + nlen + xlen + clen;
  }
  auto it = f.entries.find("meta");
  if (it == f.entries.end()) f.fail("no meta entry");
  std::vector<int64_t> shape;
  auto [type, text] = npy(f, "meta", it->second, shape);
  if (type != "u1") f.fail("meta is not text");
  try {
    f.meta = parse_json(text);
  } catch (const ModelError& e) {
    f.fail(std::string("meta: ") + e.what());
  }
  if (f.meta.kind != Json::Object) f.fail("meta is not an object");
  const Json* fmt = f.meta.find("format");
  if (!fmt || fmt->kind != Json::String || fmt->str != "minrnn-checkpoint") f.fail("not a minrnn checkpoint");
  if (f.get_int(f.meta, "version") != 1)
    f.fail("format version " + std::to_string(f.get_int(f.meta, "version")) + ", this minrnn reads 1");
  return f;
}

}  // namespace minrnn::detail
