// pybind11 bindings: argument checks, output allocation, GIL release. No arithmetic.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "minrnn/minrnn.h"

namespace py = pybind11;
using minrnn::Candidate;
using minrnn::ScanMode;

template <class F>
using Arr = py::array_t<F, py::array::c_style>;
template <class F>
using OptArr = std::optional<Arr<F>>;

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

template <class F>
void expect(const char* fn, const char* name, const Arr<F>& a, const std::vector<int64_t>& shape) {
  std::vector<int64_t> got(a.shape(), a.shape() + a.ndim());
  if (got != shape)
    throw py::value_error(std::string(fn) + ": " + name + " has shape " + shape_str(got) +
                          ", expected " + shape_str(shape));
}

template <class F>
const F* ptr(const OptArr<F>& a) {
  return a ? a->data() : nullptr;
}

template <class F>
Arr<F> empty(std::vector<int64_t> shape) {
  return Arr<F>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

ScanMode to_mode(int m) {
  if (m < 0 || m > 2) throw py::value_error("mode must be 0 (sequential), 1 (parallel) or 2 (auto)");
  return static_cast<ScanMode>(m);
}
Candidate to_candidate(int c) {
  if (c < 0 || c > 2) throw py::value_error("candidate must be 0 (g), 1 (identity) or 2 (tanh)");
  return static_cast<Candidate>(c);
}

template <class F>
void dims3(const char* fn, const char* name, const Arr<F>& a) {
  if (a.ndim() != 3)
    throw py::value_error(std::string(fn) + ": " + name + " must have 3 dimensions (B, T, C), got " +
                          std::to_string(a.ndim()));
}

template <class F>
Arr<F> scan_forward(const Arr<F>& a, const Arr<F>& b, const OptArr<F>& h0, int mode,
                    std::optional<py::array> out) {
  const char* fn = "scan_forward";
  dims3<F>(fn, "a", a);
  const int64_t B = a.shape(0), T = a.shape(1), C = a.shape(2);
  expect<F>(fn, "b", b, {B, T, C});
  if (h0) expect<F>(fn, "h0", *h0, {B, C});
  Arr<F> h;
  if (out) {  // written in place: it must already be exactly what we would allocate
    if (!py::isinstance<Arr<F>>(*out) || !out->dtype().is(py::dtype::of<F>()) ||
        !(out->flags() & py::array::c_style) || !out->writeable())
      throw py::type_error(std::string(fn) + ": out must be a writeable C-contiguous array of " +
                           std::string(py::str(py::dtype::of<F>())));
    h = py::reinterpret_borrow<Arr<F>>(*out);
    expect<F>(fn, "out", h, {B, T, C});
  } else {
    h = empty<F>({B, T, C});
  }
  const F* h0p = ptr(h0);
  F* hp = h.mutable_data();
  ScanMode m = to_mode(mode);
  {
    py::gil_scoped_release nogil;
    minrnn::scan_forward<F>(a.data(), b.data(), h0p, hp, B, T, C, m);
  }
  return h;
}

template <class F>
py::tuple scan_backward(const Arr<F>& a, const OptArr<F>& h0, const Arr<F>& h, const Arr<F>& dh,
                        int mode) {
  const char* fn = "scan_backward";
  dims3<F>(fn, "a", a);
  const int64_t B = a.shape(0), T = a.shape(1), C = a.shape(2);
  expect<F>(fn, "h", h, {B, T, C});
  expect<F>(fn, "dh", dh, {B, T, C});
  if (h0) expect<F>(fn, "h0", *h0, {B, C});
  auto da = empty<F>({B, T, C}), db = empty<F>({B, T, C});
  auto dh0 = empty<F>({B, C});
  const F* h0p = ptr(h0);
  F *dap = da.mutable_data(), *dbp = db.mutable_data(), *dh0p = dh0.mutable_data();
  ScanMode m = to_mode(mode);
  {
    py::gil_scoped_release nogil;
    minrnn::scan_backward<F>(a.data(), h0p, h.data(), dh.data(), dap, dbp, dh0p, B, T, C, m);
  }
  return py::make_tuple(da, db, dh0);
}

// The min cells share one signature; G is the number of gate blocks.
template <class F>
using MinFwd = void (*)(const F*, const F*, const F*, const F*, F*, F*, int64_t, int64_t, int64_t,
                        int64_t, Candidate, ScanMode);
template <class F>
using MinBwd = void (*)(const F*, const F*, const F*, const F*, const F*, const F*, const F*,
                        const F*, F*, F*, F*, F*, F*, int64_t, int64_t, int64_t, int64_t, Candidate,
                        ScanMode);

template <class F, int G>
void check_min_args(const char* fn, const Arr<F>& x, const Arr<F>& w, const OptArr<F>& bias,
                    const OptArr<F>& h0, int64_t& B, int64_t& T, int64_t& D, int64_t& H) {
  dims3<F>(fn, "x", x);
  B = x.shape(0), T = x.shape(1), D = x.shape(2);
  if (w.ndim() != 2 || w.shape(0) % G != 0)
    throw py::value_error(std::string(fn) + ": weight must be 2-D with a multiple of " +
                          std::to_string(G) + " rows");
  H = w.shape(0) / G;
  expect<F>(fn, "weight", w, {G * H, D});
  if (bias) expect<F>(fn, "bias", *bias, {G * H});
  if (h0) expect<F>(fn, "h0", *h0, {B, H});
}

template <class F, int G, MinFwd<F> kernel>
py::tuple min_forward(const Arr<F>& x, const Arr<F>& w, const OptArr<F>& bias, const OptArr<F>& h0,
                      int cand, int mode, bool train) {
  int64_t B, T, D, H;
  check_min_args<F, G>("forward", x, w, bias, h0, B, T, D, H);
  auto y = empty<F>({B, T, H});
  auto proj = empty<F>({train ? B : 0, T, G * H});  // kept for backward only when training
  const F *bp = ptr(bias), *h0p = ptr(h0);
  F *yp = y.mutable_data(), *pp = train ? proj.mutable_data() : nullptr;
  Candidate c = to_candidate(cand);
  ScanMode m = to_mode(mode);
  {
    py::gil_scoped_release nogil;
    kernel(x.data(), w.data(), bp, h0p, pp, yp, B, T, D, H, c, m);
  }
  return py::make_tuple(y, train ? py::object(proj) : py::object(py::none()));
}

template <class F, int G, MinBwd<F> kernel>
py::tuple min_backward(const Arr<F>& x, const Arr<F>& w, const OptArr<F>& bias, const OptArr<F>& h0,
                       const Arr<F>& proj, const Arr<F>& y, const Arr<F>& dy, const OptArr<F>& dhn,
                       int cand, int mode) {
  const char* fn = "backward";
  int64_t B, T, D, H;
  check_min_args<F, G>(fn, x, w, bias, h0, B, T, D, H);
  expect<F>(fn, "proj", proj, {B, T, G * H});
  expect<F>(fn, "y", y, {B, T, H});
  expect<F>(fn, "dy", dy, {B, T, H});
  if (dhn) expect<F>(fn, "dh_n", *dhn, {B, H});
  auto dx = empty<F>({B, T, D});
  auto dw = empty<F>({G * H, D});
  auto db = empty<F>({G * H});
  auto dh0 = empty<F>({B, H});
  const F *bp = ptr(bias), *h0p = ptr(h0), *dhnp = ptr(dhn);
  F *dpp = nullptr, *dxp = dx.mutable_data(), *dwp = dw.mutable_data(),
    *dbp = db.mutable_data(), *dh0p = dh0.mutable_data();
  Candidate c = to_candidate(cand);
  ScanMode m = to_mode(mode);
  {
    py::gil_scoped_release nogil;
    kernel(x.data(), w.data(), bp, h0p, proj.data(), y.data(), dy.data(), dhnp, dpp, dxp, dwp,
           bp ? dbp : nullptr, dh0p, B, T, D, H, c, m);
  }
  return py::make_tuple(dx, dw, bias ? py::object(db) : py::object(py::none()), dh0);
}

template <class F>
using MinScan = void (*)(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t, Candidate,
                         ScanMode);

template <class F, int G, MinScan<F> kernel>
Arr<F> min_scan(const Arr<F>& proj, const OptArr<F>& bias, const OptArr<F>& h0, int cand,
                int mode) {
  const char* fn = "scan";
  dims3<F>(fn, "proj", proj);
  const int64_t B = proj.shape(0), T = proj.shape(1);
  if (proj.shape(2) % G != 0)
    throw py::value_error(std::string(fn) + ": proj's last dimension must be a multiple of " +
                          std::to_string(G) + ", got " + std::to_string(proj.shape(2)));
  const int64_t H = proj.shape(2) / G;
  if (bias) expect<F>(fn, "bias", *bias, {G * H});
  if (h0) expect<F>(fn, "h0", *h0, {B, H});
  auto y = empty<F>({B, T, H});
  const F *bp = ptr(bias), *h0p = ptr(h0);
  F* yp = y.mutable_data();
  Candidate c = to_candidate(cand);
  ScanMode m = to_mode(mode);
  {
    py::gil_scoped_release nogil;
    kernel(proj.data(), bp, h0p, yp, B, T, H, c, m);
  }
  return y;
}

template <class F>
void stream_mul_add(const Arr<F>& a, const Arr<F>& b, Arr<F>& out) {
  if (a.size() != b.size() || a.size() != out.size())
    throw py::value_error("stream_mul_add: a, b and out must have the same size");
  const F *ap = a.data(), *bp = b.data();
  F* op = out.mutable_data();
  const int64_t n = a.size();
  py::gil_scoped_release nogil;
  minrnn::stream_mul_add<F>(ap, bp, op, n);
}

template <class F>
Arr<F> linear_forward(const Arr<F>& x, const Arr<F>& w, const OptArr<F>& bias) {
  const char* fn = "linear_forward";
  if (x.ndim() != 2 || w.ndim() != 2)
    throw py::value_error(std::string(fn) + ": x and weight must be 2-D");
  const int64_t M = x.shape(0), K = x.shape(1), N = w.shape(0);
  expect<F>(fn, "weight", w, {N, K});
  if (bias) expect<F>(fn, "bias", *bias, {N});
  auto y = empty<F>({M, N});
  const F* bp = ptr(bias);
  F* yp = y.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::linear_forward<F>(x.data(), w.data(), bp, yp, M, K, N);
  }
  return y;
}

template <class F>
py::tuple linear_backward(const Arr<F>& x, const Arr<F>& w, const Arr<F>& dy) {
  const char* fn = "linear_backward";
  if (x.ndim() != 2 || w.ndim() != 2 || dy.ndim() != 2)
    throw py::value_error(std::string(fn) + ": x, weight and dy must be 2-D");
  const int64_t M = x.shape(0), K = x.shape(1), N = w.shape(0);
  expect<F>(fn, "weight", w, {N, K});
  expect<F>(fn, "dy", dy, {M, N});
  auto dx = empty<F>({M, K}), dw = empty<F>({N, K}), db = empty<F>({N});
  F *dxp = dx.mutable_data(), *dwp = dw.mutable_data(), *dbp = db.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::linear_backward<F>(x.data(), w.data(), dy.data(), dxp, dwp, dbp, M, K, N);
  }
  return py::make_tuple(dx, dw, db);
}

using Ids = py::array_t<int64_t, py::array::c_style>;

template <class F>
Arr<F> embedding_forward(const Ids& ids, const Arr<F>& table) {
  const char* fn = "embedding_forward";
  if (ids.ndim() != 1 || table.ndim() != 2)
    throw py::value_error(std::string(fn) + ": ids must be 1-D and weight 2-D");
  const int64_t N = ids.shape(0), V = table.shape(0), E = table.shape(1);
  auto out = empty<F>({N, E});
  F* op = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::embedding_forward<F>(ids.data(), table.data(), op, N, V, E);
  }
  return out;
}

template <class F>
Arr<F> embedding_backward(const Ids& ids, const Arr<F>& dout, int64_t V) {
  const char* fn = "embedding_backward";
  if (ids.ndim() != 1 || dout.ndim() != 2 || V < 1)
    throw py::value_error(std::string(fn) + ": ids must be 1-D, dout 2-D and V >= 1");
  const int64_t N = ids.shape(0), E = dout.shape(1);
  expect<F>(fn, "dout", dout, {N, E});
  auto dtable = empty<F>({V, E});
  F* dp = dtable.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::embedding_backward<F>(ids.data(), dout.data(), dp, N, V, E);
  }
  return dtable;
}

template <class F>
py::tuple cross_entropy_forward(const Arr<F>& logits, const Ids& targets, int64_t ignore_index,
                                bool grad) {
  const char* fn = "cross_entropy_forward";
  if (logits.ndim() != 2) throw py::value_error(std::string(fn) + ": logits must be 2-D");
  const int64_t N = logits.shape(0), V = logits.shape(1);
  if (targets.ndim() != 1 || targets.shape(0) != N)
    throw py::value_error(std::string(fn) + ": targets must be 1-D with one entry per row");
  auto row_loss = empty<F>({N}), row_max = empty<F>({N}), log_sum = empty<F>({N});
  auto d = empty<F>({grad ? N : 0, V});
  F *rp = row_loss.mutable_data(), *mp = row_max.mutable_data(), *lp = log_sum.mutable_data();
  F* dp = grad ? d.mutable_data() : nullptr;
  double loss;
  int64_t count;
  {
    py::gil_scoped_release nogil;
    loss = minrnn::cross_entropy_forward<F>(logits.data(), targets.data(), rp, mp, lp, dp, N, V,
                                           ignore_index, &count);
  }
  return py::make_tuple(loss, count, row_loss, row_max, log_sum,
                        grad ? py::object(d) : py::object(py::none()));
}

template <class F>
Arr<F> cross_entropy_backward(const Arr<F>& logits, const Ids& targets, const Arr<F>& row_max,
                              const Arr<F>& log_sum, int64_t ignore_index, double scale) {
  const char* fn = "cross_entropy_backward";
  if (logits.ndim() != 2) throw py::value_error(std::string(fn) + ": logits must be 2-D");
  const int64_t N = logits.shape(0), V = logits.shape(1);
  if (targets.ndim() != 1 || targets.shape(0) != N)
    throw py::value_error(std::string(fn) + ": targets must be 1-D with one entry per row");
  expect<F>(fn, "row_max", row_max, {N});
  expect<F>(fn, "log_sum", log_sum, {N});
  auto d = empty<F>({N, V});
  F* dp = d.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::cross_entropy_backward<F>(logits.data(), targets.data(), row_max.data(),
                                      log_sum.data(), dp, N, V, ignore_index, scale);
  }
  return d;
}

template <class F>
double mse_forward(const Arr<F>& pred, const Arr<F>& target) {
  if (pred.size() != target.size())
    throw py::value_error("mse_forward: pred and target must have the same size");
  const int64_t n = pred.size();
  py::gil_scoped_release nogil;
  return minrnn::mse_forward<F>(pred.data(), target.data(), n);
}

template <class F>
Arr<F> mse_backward(const Arr<F>& pred, const Arr<F>& target, double scale) {
  if (pred.size() != target.size())
    throw py::value_error("mse_backward: pred and target must have the same size");
  const int64_t n = pred.size();
  auto d = empty<F>({n});
  F* dp = d.mutable_data();
  {
    py::gil_scoped_release nogil;
    minrnn::mse_backward<F>(pred.data(), target.data(), dp, n, scale);
  }
  return d;
}

minrnn::Cell to_cell(int c) {
  if (c < 0 || c > 5) throw py::value_error("cell must be 0..5 (rnn_tanh, rnn_relu, lstm, gru, gru_reset_before, mgu)");
  return static_cast<minrnn::Cell>(c);
}

// H from weight_hh (G*H, H), and weight_ih checked against it: (G*H, D).
template <class F>
int64_t check_weights(const char* fn, minrnn::Cell cell, const Arr<F>& w_ih, const Arr<F>& w_hh, int64_t D) {
  const int64_t G = minrnn::cell_gates(cell);
  if (w_hh.ndim() != 2 || w_hh.shape(0) % G != 0 || w_hh.shape(0) / G != w_hh.shape(1))
    throw py::value_error(std::string(fn) + ": weight_hh must be (" + std::to_string(G) + "*H, H)");
  const int64_t H = w_hh.shape(1);
  expect<F>(fn, "weight_ih", w_ih, {G * H, D});
  return H;
}

template <class F>
void check_recurrent(const char* fn, minrnn::Cell cell, const Arr<F>& x, const Arr<F>& w_ih,
                     const Arr<F>& w_hh, int64_t& B, int64_t& T, int64_t& D, int64_t& H) {
  dims3<F>(fn, "x", x);
  B = x.shape(0), T = x.shape(1), D = x.shape(2);
  H = check_weights<F>(fn, cell, w_ih, w_hh, D);
}

// One step of a classic cell from x (B, D) and the state (B, H): h' (LSTM: the pair h', c').
// The streaming path: it allocates only what it returns.
template <class F>
py::object cell_step(int cell_id, const Arr<F>& x, const Arr<F>& w_ih, const Arr<F>& w_hh,
                     const OptArr<F>& b_ih, const OptArr<F>& b_hh, const OptArr<F>& h,
                     const OptArr<F>& c) {
  const char* fn = "step";
  const minrnn::Cell cell = to_cell(cell_id);
  if (x.ndim() != 2)
    throw py::value_error(std::string(fn) + ": x must have 2 dimensions (B, D), got " +
                          std::to_string(x.ndim()));
  const int64_t B = x.shape(0), D = x.shape(1);
  const int64_t H = check_weights<F>(fn, cell, w_ih, w_hh, D), GH = minrnn::cell_gates(cell) * H;
  if (b_ih) expect<F>(fn, "bias_ih", *b_ih, {GH});
  if (b_hh) expect<F>(fn, "bias_hh", *b_hh, {GH});
  if (h) expect<F>(fn, "h", *h, {B, H});
  if (c) expect<F>(fn, "c", *c, {B, H});
  const bool lstm = cell == minrnn::Cell::LSTM;
  auto hn = empty<F>({B, H});
  Arr<F> cn = empty<F>({lstm ? B : 0, H});
  const F *bi = ptr(b_ih), *bh = ptr(b_hh), *hp = ptr(h), *cp = ptr(c);
  F *hnp = hn.mutable_data(), *cnp = lstm ? cn.mutable_data() : nullptr;
  {
    py::gil_scoped_release nogil;
    // T = 1: the output sequence (B, 1, H) is h' itself
    minrnn::recurrent_forward<F>(cell, x.data(), w_ih.data(), w_hh.data(), bi, bh, hp, cp, hnp,
                                 nullptr, cnp, nullptr, nullptr, B, 1, D, H, false);
  }
  if (lstm) return py::make_tuple(hn, cn);
  return std::move(hn);
}

template <class F>
py::tuple recurrent_forward(int cell_id, const Arr<F>& x, const Arr<F>& w_ih, const Arr<F>& w_hh,
                            const OptArr<F>& b_ih, const OptArr<F>& b_hh, const OptArr<F>& h0,
                            const OptArr<F>& c0, bool reverse, bool train) {
  const char* fn = "forward";
  const minrnn::Cell cell = to_cell(cell_id);
  int64_t B, T, D, H;
  check_recurrent<F>(fn, cell, x, w_ih, w_hh, B, T, D, H);
  const int64_t GH = minrnn::cell_gates(cell) * H, SH = minrnn::cell_store(cell) * H;
  if (b_ih) expect<F>(fn, "bias_ih", *b_ih, {GH});
  if (b_hh) expect<F>(fn, "bias_hh", *b_hh, {GH});
  if (h0) expect<F>(fn, "h0", *h0, {B, H});
  if (c0) expect<F>(fn, "c0", *c0, {B, H});
  const bool lstm = cell == minrnn::Cell::LSTM;
  auto y = empty<F>({B, T, H}), hn = empty<F>({B, H});
  Arr<F> cn = empty<F>({lstm ? B : 0, H}), store = empty<F>({train ? B : 0, T, SH});
  const F *bi = ptr(b_ih), *bh = ptr(b_hh), *h0p = ptr(h0), *c0p = ptr(c0);
  F *yp = y.mutable_data(), *hnp = hn.mutable_data();
  F *cnp = lstm ? cn.mutable_data() : nullptr, *sp = train ? store.mutable_data() : nullptr;
  {
    py::gil_scoped_release nogil;
    minrnn::recurrent_forward<F>(cell, x.data(), w_ih.data(), w_hh.data(), bi, bh, h0p, c0p, yp,
                                 hnp, cnp, nullptr, sp, B, T, D, H, reverse);
  }
  return py::make_tuple(y, hn, lstm ? py::object(cn) : py::object(py::none()),
                        train ? py::object(store) : py::object(py::none()));
}

template <class F>
py::tuple recurrent_backward(int cell_id, const Arr<F>& x, const Arr<F>& w_ih, const Arr<F>& w_hh,
                             const OptArr<F>& h0, const OptArr<F>& c0, const Arr<F>& store,
                             const Arr<F>& y, const Arr<F>& dy, const OptArr<F>& dhn,
                             const OptArr<F>& dcn, bool reverse, bool bias) {
  const char* fn = "backward";
  const minrnn::Cell cell = to_cell(cell_id);
  int64_t B, T, D, H;
  check_recurrent<F>(fn, cell, x, w_ih, w_hh, B, T, D, H);
  const int64_t GH = minrnn::cell_gates(cell) * H, SH = minrnn::cell_store(cell) * H;
  if (h0) expect<F>(fn, "h0", *h0, {B, H});
  if (c0) expect<F>(fn, "c0", *c0, {B, H});
  expect<F>(fn, "store", store, {B, T, SH});
  expect<F>(fn, "y", y, {B, T, H});
  expect<F>(fn, "dy", dy, {B, T, H});
  if (dhn) expect<F>(fn, "dh_n", *dhn, {B, H});
  if (dcn) expect<F>(fn, "dc_n", *dcn, {B, H});
  const bool lstm = cell == minrnn::Cell::LSTM;
  auto dx = empty<F>({B, T, D}), dwi = empty<F>({GH, D}), dwh = empty<F>({GH, H});
  auto dbi = empty<F>({bias ? GH : 0}), dbh = empty<F>({bias ? GH : 0});
  auto dh0 = empty<F>({B, H}), dc0 = empty<F>({lstm ? B : 0, H});
  const F *h0p = ptr(h0), *c0p = ptr(c0), *dhnp = ptr(dhn), *dcnp = ptr(dcn);
  F *dxp = dx.mutable_data(), *dwip = dwi.mutable_data(), *dwhp = dwh.mutable_data();
  F *dbip = bias ? dbi.mutable_data() : nullptr, *dbhp = bias ? dbh.mutable_data() : nullptr;
  F *dh0p = dh0.mutable_data(), *dc0p = lstm ? dc0.mutable_data() : nullptr;
  {
    py::gil_scoped_release nogil;
    minrnn::recurrent_backward<F>(cell, x.data(), w_ih.data(), w_hh.data(), h0p, c0p, store.data(),
                                  y.data(), dy.data(), dhnp, dcnp, dxp, dwip, dwhp, dbip, dbhp,
                                  dh0p, dc0p, B, T, D, H, reverse);
  }
  py::object none = py::none();
  return py::make_tuple(dx, dwi, dwh, bias ? py::object(dbi) : none, bias ? py::object(dbh) : none,
                        dh0, lstm ? py::object(dc0) : none);
}

template <class F>
void register_dtype(py::module_& m) {
  m.def("recurrent_forward", &recurrent_forward<F>, py::arg("cell"), py::arg("x"),
        py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih"), py::arg("bias_hh"),
        py::arg("h0"), py::arg("c0"), py::arg("reverse"), py::arg("train"));
  m.def("cell_step", &cell_step<F>, py::arg("cell"), py::arg("x"), py::arg("weight_ih"),
        py::arg("weight_hh"), py::arg("bias_ih"), py::arg("bias_hh"), py::arg("h"), py::arg("c"));
  m.def("recurrent_backward", &recurrent_backward<F>, py::arg("cell"), py::arg("x"),
        py::arg("weight_ih"), py::arg("weight_hh"), py::arg("h0"), py::arg("c0"), py::arg("store"),
        py::arg("y"), py::arg("dy"), py::arg("dh_n"), py::arg("dc_n"), py::arg("reverse"),
        py::arg("bias"));
  m.def("embedding_forward", &embedding_forward<F>, py::arg("ids"), py::arg("weight"));
  m.def("embedding_backward", &embedding_backward<F>, py::arg("ids"), py::arg("dout"),
        py::arg("num_embeddings"));
  m.def("cross_entropy_forward", &cross_entropy_forward<F>, py::arg("logits"), py::arg("targets"),
        py::arg("ignore_index"), py::arg("grad") = false);
  m.def("cross_entropy_backward", &cross_entropy_backward<F>, py::arg("logits"),
        py::arg("targets"), py::arg("row_max"), py::arg("log_sum"), py::arg("ignore_index"),
        py::arg("scale"));
  m.def("mse_forward", &mse_forward<F>, py::arg("pred"), py::arg("target"));
  m.def("mse_backward", &mse_backward<F>, py::arg("pred"), py::arg("target"), py::arg("scale"));
  m.def("linear_backward", &linear_backward<F>, py::arg("x"), py::arg("weight"), py::arg("dy"));
  m.def("linear_forward", &linear_forward<F>, py::arg("x"), py::arg("weight"), py::arg("bias"));
  m.def("scan_forward", &scan_forward<F>, py::arg("a"), py::arg("b"), py::arg("h0"), py::arg("mode"),
        py::arg("out") = py::none());
  m.def("scan_backward", &scan_backward<F>, py::arg("a"), py::arg("h0"), py::arg("h"), py::arg("dh"),
        py::arg("mode"));
  m.def("mingru_forward", &min_forward<F, 2, &minrnn::mingru_forward<F>>, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("h0"), py::arg("candidate"), py::arg("mode"),
        py::arg("train") = true);
  m.def("mingru_backward", &min_backward<F, 2, &minrnn::mingru_backward<F>>, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("h0"), py::arg("proj"), py::arg("y"),
        py::arg("dy"), py::arg("dh_n"), py::arg("candidate"), py::arg("mode"));
  m.def("mingru_scan", &min_scan<F, 2, &minrnn::mingru_scan<F>>, py::arg("proj"), py::arg("bias"),
        py::arg("h0"), py::arg("candidate"), py::arg("mode"));
  m.def("minlstm_scan", &min_scan<F, 3, &minrnn::minlstm_scan<F>>, py::arg("proj"), py::arg("bias"),
        py::arg("h0"), py::arg("candidate"), py::arg("mode"));
  m.def("stream_mul_add", &stream_mul_add<F>, py::arg("a"), py::arg("b"), py::arg("out"));
  m.def("minlstm_forward", &min_forward<F, 3, &minrnn::minlstm_forward<F>>, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("h0"), py::arg("candidate"), py::arg("mode"),
        py::arg("train") = true);
  m.def("minlstm_backward", &min_backward<F, 3, &minrnn::minlstm_backward<F>>, py::arg("x"),
        py::arg("weight"), py::arg("bias"), py::arg("h0"), py::arg("proj"), py::arg("y"),
        py::arg("dy"), py::arg("dh_n"), py::arg("candidate"), py::arg("mode"));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "minrnn compiled core (kernels); use the minrnn package, not this module";
  m.def("set_num_threads", &minrnn::set_num_threads, py::arg("n"));
  m.def("get_num_threads", &minrnn::get_num_threads);
  m.def("simd_level", &minrnn::simd_level);
  m.def("release_workspace", &minrnn::release_workspace);
  m.def("scan_choose", [](int64_t B, int64_t T, int64_t C) {
    return static_cast<int>(minrnn::scan_choose(B, T, C));
  });
  register_dtype<float>(m);
  register_dtype<double>(m);
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
}
