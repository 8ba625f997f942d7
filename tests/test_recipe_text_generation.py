"""recipes.text_generation end to end: outputs, figures, --generate, bad input, tfds."""

import math

import pytest
import tensorflow_datasets as tfds

from recipes import text_generation

from recipe_harness import assert_finished_run, assert_one_line_error, read_metrics, runner

TINY = ["--quick", "--sequence-length", "16", "--width", "16", "--heads", "2", "--depth", "1",
        "--batch-size", "16", "--max-length", "20"]  # fmt: skip


exit_status = runner(text_generation.main)


def english(characters: int) -> str:
    sentence = "The quick brown fox jumps over the lazy dog while the cat sleeps. "
    return (sentence * (characters // len(sentence) + 1))[:characters]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text_generation")
    corpus = folder / "corpus.txt"
    corpus.write_text(english(6000), encoding="utf-8")
    output = folder / "run"
    assert exit_status(["--data-file", str(corpus), "--output-dir", str(output), *TINY]) == 0
    return output


def test_quick_run_writes_outputs_and_consistent_figures(finished_run):
    metrics = assert_finished_run(finished_run, "samples.txt")
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
    assert_one_line_error(capsys, message)


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
    assert_one_line_error(capsys, message, nothing_at=output)


def test_tiny_shakespeare_is_the_default(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=20):
        assert exit_status(["--output-dir", str(output), *TINY, "--sequence-length", "8"]) == 0
    metrics = read_metrics(output)
    assert metrics["dataset"] == "tiny_shakespeare" and metrics["data_source"] == "tensorflow-datasets"
