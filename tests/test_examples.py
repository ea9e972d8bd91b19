"""The examples in examples/ run (in their short modes) and do what they say."""
import os
import re
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")


def run(name, *args, cwd=None):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], capture_output=True,
                       text=True, timeout=600, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_char_rnn(tmp_path):
    out = run("char_rnn.py", "--short", "--out", str(tmp_path / "c.ckpt"))
    final, uniform = map(float, re.search(r"final smoothed loss ([\d.]+) \(uniform guess ([\d.]+)\)",
                                          out).groups())
    assert final < 0.6 * uniform and (tmp_path / "c.ckpt").exists()


@pytest.mark.parametrize("cell", ["gru", "mingru", "lstm"])
def test_babylm_answers_jumps(cell):
    out = run("babylm.py", "--short", "--cell", cell)
    assert "the quick brown fox -> jumps" in out
    assert "a journey of a thousand -> miles" in out


def test_mgu_regression_loss_falls_tenfold():
    out = run("mgu_regression.py", "--short")
    before = float(re.search(r"before training: ([\d.]+)", out).group(1))
    after = float(re.search(r"after training: ([\d.]+)", out).group(1))
    assert after * 10 <= before


def test_hello():
    assert "spelled: hello" in run("hello.py")
