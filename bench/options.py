"""Option checks shared by the benchmark scripts (argparse types and an output check)."""
import argparse


def count(lo, hi=None):
    """An argparse type: an int in [lo, hi]."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"expected an int in [{lo}, {hi or 'inf'}], got {v}")
        return v
    return parse


def writable_dir(ap, path, option="--out"):
    """Creates the directory path if needed and checks that files can be written there,
    before any timing; otherwise ap.error (exit code 2)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".bench-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        ap.error(f"{option} {path}: cannot write there ({exc.strerror or exc})")
