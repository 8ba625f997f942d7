"""recipes.text_generation end to end: outputs, figures, --generate, bad input, tfds."""

import json
import math

import pytest
import tensorflow_datasets as tfds

from mlrecipes.cli import run_recipe
from recipes import text_generation

TINY = ["--quick", "--sequence-length", "16", "--width", "16", "--heads", "2", "--depth", "1",
        "--batch-size", "16", "--max-length", "20"]  # fmt: skip


def exit_status(argv):
    with pytest.raises(SystemExit) as exited:
        run_recipe(text_generation.main, argv)
    return exited.value.code


def english(characters: int) -> str:
    sentence = "The quick brown fox jumps over the lazy dog while the cat sleeps. "
    return (sentence * (characters // len(sentence) + 1))[:characters]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text_generation")
    corpus = folder / "corpus.txt"
    corpus.write_text(english(6000), encoding="utf-8")
    output = folder / "run"
    with pytest.raises(SystemExit) as exited:
        run_recipe(text_generation.main, ["--data-file", str(corpus), "--output-dir", str(output), *TINY])
    assert exited.value.code == 0
    return output


def test_quick_run_writes_outputs_and_consistent_figures(finished_run):
    for name in ["model.keras", "metrics.json", "history.csv", "learning_curves.png", "samples.txt"]:
        assert (finished_run / name).is_file(), name
    assert not [path for path in finished_run.iterdir() if path.name.startswith(".")]
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert metrics["dataset"] == "corpus" and metrics["characters"] == {"train": 5400, "validation": 300, "test": 300}
    # ASCII text: one byte per character, so bpc = loss / ln 2 and perplexity = exp(loss).
    assert metrics["test_bits_per_character"] == pytest.approx(metrics["test_loss"] / math.log(2), abs=1e-3)
    assert metrics["test_perplexity"] == pytest.approx(math.exp(metrics["test_loss"]), rel=1e-3)
    assert metrics["validation_bits_per_character"] == pytest.approx(metrics["validation_loss"] / math.log(2), abs=1e-3)
    assert metrics["test_loss"] < math.log(256)  # it learned something: better than a uniform guess
    samples = (finished_run / "samples.txt").read_text()
    for sampler in ("greedy", "top_k", "top_p"):
        assert f"=== {sampler} " in samples


def test_generate_continues_a_prompt_from_the_saved_run(finished_run, capsys):
    argv = ["--generate", "The quick", "--model-dir", str(finished_run), "--max-length", "12", "--sampler", "greedy"]
    assert exit_status(argv) == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert printed.startswith("The quick") and len(printed) == len("The quick") + 12


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--generate", "x" * 17], "the prompt is 17 bytes long but the model reads at most 16"),
        (["--generate", "hello", "--model-dir", "NOWHERE"], "holds no saved run (no model.keras and metrics.json)"),
    ],
)
def test_bad_generation_requests_exit_2_with_one_line(finished_run, tmp_path, capsys, argv, message):
    argv = [part.replace("NOWHERE", str(tmp_path)) for part in argv]
    if "--model-dir" not in argv:
        argv += ["--model-dir", str(finished_run)]
    assert exit_status(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\xff\xfe not text", "not UTF-8"),
        (english(200).encode(), "fewer than the 17 that one sequence"),
    ],
)
def test_bad_corpus_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, content, message):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    output = tmp_path / "run"
    assert exit_status(["--data-file", str(corpus), "--output-dir", str(output), *TINY]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error
    assert not output.exists()


def test_tiny_shakespeare_is_the_default(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=20):
        assert exit_status(["--output-dir", str(output), *TINY, "--sequence-length", "8"]) == 0
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["dataset"] == "tiny_shakespeare" and metrics["data_source"] == "tensorflow-datasets"
