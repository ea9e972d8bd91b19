"""Embedding, Linear, the losses and the whole LanguageModel against float64 references
and finite differences; optimizers against their textbook formulas; Vocab and sampling."""
import math
import warnings

import numpy as np
import pytest

import minrnn as mr
from minrnn.reference import numeric_grad

try:
    import torch
except ImportError:
    torch = None


def logsumexp(x):
    m = np.max(x, axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True)))[..., 0]


# ---- Embedding ----
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_forward_backward(rng, dtype):
    emb = mr.Embedding(11, 5, seed=0, dtype=dtype)
    ids = rng.integers(0, 11, (3, 7))
    w = emb.parameters()["weight"]
    out = emb.forward(ids, train=True)
    assert out.dtype == dtype and out.shape == (3, 7, 5)
    np.testing.assert_array_equal(out, w[ids])
    dout = rng.standard_normal(out.shape).astype(dtype)
    emb.backward(dout)
    ref = np.zeros((11, 5))
    np.add.at(ref, ids.reshape(-1), dout.reshape(-1, 5).astype(np.float64))
    np.testing.assert_allclose(emb.grads["weight"], ref, rtol=1e-5, atol=1e-5)


def test_embedding_gradient_check(rng):
    emb = mr.Embedding(5, 3, seed=0, dtype=np.float64)
    ids = np.array([[0, 4, 4], [2, 0, 4]])
    R = rng.standard_normal((2, 3, 3))
    emb.forward(ids, train=True)
    emb.backward(R)

    def f():
        return float(np.sum(emb(ids) * R))
    np.testing.assert_allclose(emb.grads["weight"], numeric_grad(f, emb.parameters()["weight"]),
                               rtol=1e-7, atol=1e-9)


def test_embedding_backward_same_on_any_thread_count(rng):
    emb = mr.Embedding(50, 300, seed=0)
    ids = rng.integers(0, 50, 4000)  # many repeats, large enough to run threaded
    dout = rng.standard_normal((4000, 300), dtype=np.float32)
    got = []
    for n in (1, 2, 3):
        mr.set_num_threads(n)
        emb.forward(ids, train=True)
        emb.backward(dout)
        got.append(emb.grads["weight"].copy())
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_array_equal(got[0], got[2])


def test_embedding_bad_ids():
    emb = mr.Embedding(4, 2)
    with pytest.raises(ValueError, match=r"ids contains 4, expected ids in \[0, 4\)"):
        emb(np.array([0, 4]))
    with pytest.raises(ValueError, match="-1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(np.array([0.5]))
    with pytest.raises(RuntimeError, match="train=True"):
        mr.Embedding(4, 2).backward(np.zeros((1, 2)))


# ---- Linear ----
def test_linear_matches_reference_and_gradients(rng):
    lin = mr.Linear(4, 3, seed=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 4))
    p = lin.parameters()
    y = lin.forward(x, train=True)
    np.testing.assert_allclose(y, np.einsum("btk,nk->btn", x, p["weight"]) + p["bias"], atol=1e-12)
    R = rng.standard_normal(y.shape)
    dx = lin.backward(R)

    def f():
        return float(np.sum(lin.forward(x) * R))
    for name in ("weight", "bias"):
        np.testing.assert_allclose(lin.grads[name], numeric_grad(f, p[name]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, numeric_grad(f, x), rtol=1e-6, atol=1e-8)


def test_linear_without_bias_and_bad_shape():
    lin = mr.Linear(4, 3, bias=False)
    assert set(lin.parameters()) == {"weight"}
    with pytest.raises(ValueError, match=r"x has shape \(2, 5\), expected \(\.\.\., 4\)"):
        lin(np.zeros((2, 5), np.float32))


# ---- losses ----
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_matches_reference(rng, dtype):
    logits = (3 * rng.standard_normal((4, 6, 9))).astype(dtype)
    t = rng.integers(0, 9, (4, 6))
    t[0, :2] = -100
    ce = mr.CrossEntropyLoss()
    loss = ce(logits, t)
    x = logits.astype(np.float64)
    keep = t != -100
    rows = logsumexp(x) - np.take_along_axis(x, np.where(keep, t, 0)[..., None], -1)[..., 0]
    ref = rows[keep].mean()
    assert abs(loss - ref) < (1e-5 if dtype == np.float32 else 1e-12)
    assert ce.count == keep.sum()
    np.testing.assert_allclose(ce.row_losses[keep], rows[keep], rtol=1e-5)
    d = ce.backward()
    p = np.exp(x - logsumexp(x)[..., None])
    onehot = np.zeros_like(p)
    np.put_along_axis(onehot, np.where(keep, t, 0)[..., None], 1.0, -1)
    ref_d = (p - onehot) * keep[..., None] / keep.sum()
    np.testing.assert_allclose(d, ref_d, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_cross_entropy_gradient_check(rng):
    logits = rng.standard_normal((5, 4))
    t = np.array([0, 3, 1, 1, 2])
    ce = mr.CrossEntropyLoss()
    ce(logits, t)
    d = ce.backward(2.0)
    np.testing.assert_allclose(d, 2 * numeric_grad(lambda: mr.cross_entropy(logits, t), logits),
                               rtol=1e-6, atol=1e-9)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [3e38, 3e38, 0.0]], np.float32)
    loss = mr.cross_entropy(logits, np.array([0, 1]))
    assert math.isclose(loss, 0.5 * math.log(2), rel_tol=1e-5)


def test_cross_entropy_all_ignored_and_bad_targets():
    ce = mr.CrossEntropyLoss(ignore_index=-1)
    assert ce(np.zeros((2, 3)), np.array([-1, -1])) == 0.0
    assert np.all(ce.backward() == 0)
    with pytest.raises(ValueError, match=r"targets contains 3, expected ids in \[0, 3\)"):
        ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="targets has shape"):
        ce(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer"):
        ce(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_mse(rng):
    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    m = mr.MSELoss()
    assert abs(m(pred, target) - np.mean((pred - target) ** 2)) < 1e-12
    np.testing.assert_allclose(m.backward(), numeric_grad(lambda: mr.mse(pred, target), pred),
                               rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="target has shape"):
        m(pred, target[:2])


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_losses_match_torch(rng):
    logits = rng.standard_normal((7, 5)).astype(np.float32)
    t = rng.integers(0, 5, 7)
    t[2] = -100
    tl = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tl, torch.tensor(t))
    ref.backward()
    ce = mr.CrossEntropyLoss()
    assert abs(ce(logits, t) - ref.item()) < 1e-6
    np.testing.assert_allclose(ce.backward(), tl.grad.numpy(), atol=1e-7)
    pred, target = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    tp = torch.tensor(pred, requires_grad=True)
    ref = torch.nn.functional.mse_loss(tp, torch.tensor(target))
    ref.backward()
    m = mr.MSELoss()
    assert abs(m(pred, target) - ref.item()) < 1e-12
    np.testing.assert_allclose(m.backward(), tp.grad.numpy(), atol=1e-14)


# ---- the whole language model ----
@pytest.mark.parametrize("cell,layers", [("mingru", 2), ("minlstm", 1), ("mgu", 1), ("gru", 2),
                                         ("lstm", 2), ("rnn", 1)])
def test_language_model_gradients(rng, cell, layers):
    V = 6
    m = mr.LanguageModel(V, 3, 4, cell=cell, num_layers=layers, seed=1, dtype=np.float64)
    ids, targets = rng.integers(0, V, (2, 5)), rng.integers(0, V, (2, 5))
    state = m.initial_state(batch=2)
    if isinstance(state, tuple):
        state = tuple(0.3 * rng.standard_normal(s.shape) for s in state)
    else:
        state = 0.3 * rng.standard_normal(state.shape)
    m.loss(ids, targets, state, train=True)
    dstate = m.backward()

    def f():
        return m.loss(ids, targets, state)[0]
    grads = m.grads
    for name, p in m.parameters().items():
        np.testing.assert_allclose(grads[name], numeric_grad(f, p), rtol=1e-5, atol=1e-8, err_msg=name)
    if isinstance(state, tuple):
        for s, ds in zip(state, dstate):
            np.testing.assert_allclose(ds, numeric_grad(f, s), rtol=1e-5, atol=1e-8)
    else:
        np.testing.assert_allclose(dstate, numeric_grad(f, state), rtol=1e-5, atol=1e-8)


def test_language_model_carried_state_equals_one_long_sequence(rng):
    m = mr.LanguageModel(9, 4, 8, cell="gru", seed=0)
    ids = rng.integers(0, 9, (3, 20))
    full, _ = m(ids)
    a, s = m(ids[:, :7])
    b, _ = m(ids[:, 7:], s)
    np.testing.assert_allclose(np.concatenate([a, b], 1), full, rtol=1e-5, atol=1e-6)


def test_language_model_state_dict_round_trip_and_refusals():
    a = mr.LanguageModel(5, 3, 4, cell="lstm", seed=0)
    b = mr.LanguageModel(5, 3, 4, cell="lstm", seed=1)
    b.load_state_dict(a.state_dict())
    ids = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(a(ids)[0], b(ids)[0])
    sd = a.state_dict()
    sd["head.bias"] = np.zeros(7)
    before = b.state_dict()
    with pytest.raises(ValueError, match=r"head.bias.*\(7,\).*\(5,\)"):
        b.load_state_dict(sd)
    sd = a.state_dict()
    sd["rnn.weight_hh_l0"] = sd["rnn.weight_hh_l0"] * np.nan
    with pytest.raises(ValueError, match="non-finite"):
        b.load_state_dict(sd)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(ValueError, match="missing keys"):
        b.load_state_dict({})


def test_language_model_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        mr.LanguageModel(5, 3, 4, cell="transformer")
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        mr.LanguageModel(5.0, 3, 4)
    m = mr.LanguageModel(5, 3, 4)
    with pytest.raises(ValueError, match=r"ids contains 5"):
        m(np.array([[1, 5]]))
    with pytest.raises(ValueError, match=r"ids must be \(B, T\) or \(T,\)"):
        m(np.zeros((1, 2, 3), np.int64))
    with pytest.raises(RuntimeError, match="loss"):
        m.backward()
    with pytest.raises(TypeError, match="needs a model with a vocab"):
        m.sample("abc")
    with pytest.raises(TypeError, match="no vocab"):
        m.perplexity("abc")


# ---- optimizers ----
def _run(opt_cls, kwargs, steps=4, seed=0):
    rng = np.random.default_rng(seed)
    p = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal(4)}
    p0 = {k: v.copy() for k, v in p.items()}
    gs = [{k: rng.standard_normal(v.shape) for k, v in p.items()} for _ in range(steps)]
    opt = opt_cls(p, **kwargs)
    for g in gs:
        opt.step({k: v.copy() for k, v in g.items()})
    return p0, gs, p


def test_sgd_momentum_textbook():
    p0, gs, p = _run(mr.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01))
    for k in p0:
        x, buf = p0[k].copy(), None
        for g in gs:
            g = g[k] + 0.01 * x
            buf = g if buf is None else 0.9 * buf + g
            x = x - 0.1 * buf
        np.testing.assert_allclose(p[k], x, rtol=1e-12)


def test_adagrad_textbook():
    p0, gs, p = _run(mr.Adagrad, dict(lr=0.1))
    for k in p0:
        x, s = p0[k].copy(), 0
        for g in gs:
            s = s + g[k] ** 2
            x = x - 0.1 * g[k] / (np.sqrt(s) + 1e-10)
        np.testing.assert_allclose(p[k], x, rtol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw_textbook(decoupled):
    cls = mr.AdamW if decoupled else mr.Adam
    p0, gs, p = _run(cls, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1))
    for k in p0:
        x, m, v = p0[k].copy(), 0, 0
        for t, g in enumerate(gs, 1):
            g = g[k]
            if decoupled:
                x = x * (1 - 0.01 * 0.1)
            else:
                g = g + 0.1 * x
            m = 0.8 * m + 0.2 * g
            v = 0.99 * v + 0.01 * g * g
            x = x - 0.01 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-8)
        np.testing.assert_allclose(p[k], x, rtol=1e-10)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adagrad", dict(lr=0.1)),
                                         ("Adam", dict(lr=0.01, weight_decay=0.1)),
                                         ("AdamW", dict(lr=0.01, weight_decay=0.1))])
def test_optimizers_match_torch(name, kwargs):
    p0, gs, p = _run(getattr(mr, name), kwargs)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p0.items()}
    opt = getattr(torch.optim, name)(list(tp.values()), **kwargs)
    for g in gs:
        for k, t in tp.items():
            t.grad = torch.tensor(g[k])
        opt.step()
    for k in p:
        np.testing.assert_allclose(p[k], tp[k].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizer_state_round_trip_and_refusals():
    _, gs, _ = _run(mr.Adam, dict(lr=0.01))
    p = {"a": np.ones((3, 2)), "b": np.ones(4)}
    q = {k: v.copy() for k, v in p.items()}
    a, b = mr.Adam(p, lr=0.01), mr.Adam(q, lr=0.5)
    a.step(gs[0])
    b.load_state_dict(a.state_dict())
    for k in p:
        q[k][...] = p[k]
    a.step(gs[1])
    b.step(gs[1])
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])
    with pytest.raises(ValueError, match="'SGD'"):
        mr.Adam(p).load_state_dict(mr.SGD(p).state_dict())
    with pytest.raises(ValueError, match="lr must be in"):
        mr.Adam(p, lr=0)
    with pytest.raises(ValueError, match="missing"):
        mr.Adam(p).step({"a": np.ones((3, 2))})


def test_clipping():
    g = {"a": np.array([3.0, -7.0]), "b": np.array([[0.5]])}
    mr.clip_grad_value(g, 5)
    np.testing.assert_array_equal(g["a"], [3.0, -5.0])
    g = {"a": np.array([3.0, 4.0]), "b": np.array([0.0])}
    total = mr.clip_grad_norm(g, 1.0)
    assert total == 5.0
    np.testing.assert_allclose(g["a"], [0.6, 0.8], rtol=1e-6)
    g = {"a": np.array([0.3, 0.4])}
    mr.clip_grad_norm(g, 1.0)
    np.testing.assert_array_equal(g["a"], [0.3, 0.4])


# ---- Vocab ----
def test_vocab_char_and_word():
    v = mr.Vocab.from_text("abba c")
    assert len(v) == 5 and v.itos[0] == "\ufffd" and v.itos[1] in "ab"
    assert v.decode(v.encode("cab")) == "cab"
    assert v.encode("xa")[0] == 0
    w = mr.Vocab.from_text("the cat the dog\nthe end", level="word")
    assert w.itos[:2] == ["<unk>", "the"]
    assert w.decode(w.encode("the  dog\tsat")) == "the dog <unk>"
    assert mr.Vocab.from_dict(w.to_dict()) == w
    assert len(mr.Vocab.from_text("aab", max_size=2)) == 2
    with pytest.raises(ValueError, match="empty"):
        mr.Vocab.from_text("   ", level="word")
    with pytest.raises(ValueError, match="level must be"):
        mr.Vocab.from_text("x", level="byte")


# ---- using a model ----
def _small_lm(cell="gru"):
    v = mr.Vocab.from_text("abcdefgh")
    return mr.LanguageModel(len(v), 4, 8, cell=cell, seed=3, vocab=v)


def test_sampling_rules():
    m = _small_lm()
    greedy = m.sample("ab", 10, temperature=0)
    assert greedy == m.sample("ab", 10, top_k=1, seed=5)
    assert greedy[2] == m.predict_next("ab")
    assert m.sample("ab", 30, seed=1) == m.sample("ab", 30, seed=1)
    assert m.sample("a", 0) == "a"
    # top_k=2: only the two most likely tokens can follow "a"
    ids = m.vocab.encode("a")
    logits, _ = m(ids)
    top2 = set(np.argsort(logits[-1])[-2:].tolist())
    firsts = {m.sample_ids(ids, 1, top_k=2, seed=s)[0] for s in range(40)}
    assert firsts <= top2 and len(firsts) == 2
    with pytest.raises(ValueError, match="temperature"):
        m.sample("a", 3, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        m.sample("a", 3, top_k=0)


@pytest.mark.parametrize("cell", ["gru", "lstm", "mingru"])
def test_streamed_sampling_matches_forward(cell):
    """sample_ids at temperature 0 follows the argmax of full forward passes."""
    m = _small_lm(cell)
    prime = m.vocab.encode("abc")
    out = m.sample_ids(prime, 6, temperature=0)
    seq = list(prime)
    for tok in out:
        logits, _ = m(np.array(seq))
        logits[-1, 0] = -np.inf  # never the unknown token
        assert tok == int(np.argmax(logits[-1]))
        seq.append(tok)


def _biased_lm(token, value):
    """_small_lm with the head's bias of one token set to value."""
    m = _small_lm()
    sd = m.state_dict()
    sd["head.bias"][token] = value
    m.load_state_dict(sd)
    return m


def test_sampling_never_draws_the_unknown_token():
    m = _biased_lm(0, 30.0)  # the unknown token (id 0) would win every draw
    assert m.vocab.unk not in m.sample("ab", 200, seed=1)
    assert m.vocab.unk not in m.sample("ab", 50, temperature=0)
    assert m.vocab.unk not in m.sample("ab", 50, top_k=1, seed=0)
    assert m.predict_next("ab") != m.vocab.unk
    assert 0 not in m.sample_ids("ab", 100, seed=2)
    # without a vocabulary, ids are ids: 0 is an ordinary token
    plain = mr.LanguageModel(m.vocab_size, 4, 8, cell="gru", seed=3)
    plain.load_state_dict(m.state_dict())
    assert list(plain.sample_ids([1, 2], 5, temperature=0)) == [0] * 5


def test_tiny_temperature_is_greedy_without_warnings():
    m = _small_lm()
    greedy = m.sample("ab", 20, temperature=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in [1e-300, 1e-320, 5e-324]:
            assert m.sample("ab", 20, temperature=t, seed=4) == greedy


def test_perplexity_of_a_hopeless_model_is_inf():
    m = _biased_lm(1, 1e4)  # every other token costs ~1e4 nats: exp overflows
    text = "abcdefgh" * 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.perplexity(text) == math.inf
        logged = []
        mr.Trainer(m, mr.SGD(m.parameters(), lr=1e-12), batch_size=2, seq_len=4).fit(
            text, val=text, steps=1, progress=False, log=logged.append)
    assert "val perplexity inf" in logged[-1]


def test_perplexity_is_exp_mean_nll(rng):
    m = _small_lm()
    text = "abcabdhgfe" * 7
    ids = m.vocab.encode(text)
    logits, _ = m(ids[:-1])
    x = logits.astype(np.float64)
    nll = np.mean(logsumexp(x) - x[np.arange(len(ids) - 1), ids[1:]])
    assert abs(m.perplexity(text) - math.exp(nll)) < 1e-4 * math.exp(nll)
    assert abs(m.perplexity(text, chunk=3) - math.exp(nll)) < 1e-4 * math.exp(nll)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        m.perplexity("a")


def test_cross_entropy_same_on_any_thread_count(rng):
    logits = rng.standard_normal((3000, 50)).astype(np.float32)
    t = rng.integers(0, 50, 3000)
    got = []
    for n in (1, 2, 3):
        mr.set_num_threads(n)
        ce = mr.CrossEntropyLoss()
        got.append((ce.forward(logits, t, grad=True), ce.backward().copy()))
    for loss, d in got[1:]:
        assert loss == got[0][0]
        np.testing.assert_array_equal(d, got[0][1])


def test_cross_entropy_nan_propagates():
    logits = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], np.float32)
    ce = mr.CrossEntropyLoss()
    assert math.isnan(ce.forward(logits, np.array([0, 1]), grad=True))
    assert np.isnan(ce.backward()[0]).all() and np.isfinite(ce.backward()[1]).all()
