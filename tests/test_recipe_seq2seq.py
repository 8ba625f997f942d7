"""recipes.seq2seq end to end: outputs, --translate, bad input, tfds."""

import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.sentence_pairs import write_pairs
from mlrecipes.testing import date_pairs
from recipes import seq2seq

from recipe_harness import assert_finished_run, assert_one_line_error, read_metrics, runner

TINY = ["--quick", "--width", "16", "--heads", "2", "--encoder-depth", "1", "--decoder-depth", "1",
        "--batch-size", "32", "--examples", "3"]  # fmt: skip


exit_status = runner(seq2seq.main)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seq2seq")
    pairs = write_pairs(folder / "dates.tsv", date_pairs(200, seed=3))
    output = folder / "run"
    assert exit_status(["--data-file", str(pairs), "--output-dir", str(output), *TINY]) == 0
    return output


def test_quick_run_writes_outputs_and_scores(finished_run):
    metrics = assert_finished_run(finished_run, "examples.txt")
    assert metrics["pairs"] == {"train": 160, "validation": 20, "test": 20}
    assert metrics["target_length"] == 11  # "YYYY-MM-DD" and the end token
    for key in ("test_token_accuracy", "test_exact_match", "test_bleu"):
        assert 0.0 <= metrics[key] <= 1.0, key
    examples = (finished_run / "examples.txt").read_text()
    assert examples.count("source:") == 3 and examples.count("translated:") == 3


def test_translate_prints_a_decoded_sentence(finished_run, capsys):
    assert exit_status(["--translate", "the first of may nineteen ninety", "--model-dir", str(finished_run)]) == 0
    translation = capsys.readouterr().out.strip().splitlines()[-1]
    assert 0 < len(translation) <= 11  # at most target-length bytes (an invalid one shows as one U+FFFD)


def test_pair_file_without_tab_exits_2_with_one_line(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("um\tone\ndois two\n", encoding="utf-8")
    output = tmp_path / "run"
    assert exit_status(["--data-file", str(pairs), "--output-dir", str(output), *TINY]) == 2
    assert_one_line_error(capsys, "line 2 has no tab", nothing_at=output)


def test_translate_without_a_run_exits_2(tmp_path, capsys):
    assert exit_status(["--translate", "olá"]) == 2
    assert exit_status(["--translate", "olá", "--model-dir", str(tmp_path)]) == 2
    assert "holds no saved run (no model.keras and metrics.json)" in capsys.readouterr().err


def test_ted_portuguese_english_is_the_default(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=20):
        assert exit_status(["--output-dir", str(output), *TINY, "--source-length", "16", "--target-length", "8"]) == 0
    metrics = read_metrics(output)
    assert metrics["dataset"] == "ted_hrlr_translate/pt_to_en" and metrics["data_source"] == "tensorflow-datasets"


def test_the_lstm_architecture_trains_and_translates(tmp_path, capsys):
    from mlrecipes.testing import addition_pairs

    pairs = write_pairs(tmp_path / "sums.tsv", addition_pairs(300, seed=2))
    output = tmp_path / "run"
    flags = ["--architecture", "lstm", "--width", "8", "--units", "16", "--batch-size", "32", "--examples", "2"]
    assert exit_status(["--data-file", str(pairs), "--output-dir", str(output), "--quick", *flags]) == 0
    metrics = read_metrics(output)
    assert metrics["config"]["architecture"] == "lstm" and metrics["pairs"]["test"] == 30
    assert metrics["source_length"] == 7 and metrics["target_length"] == 5  # "999+999", "1998" + end
    assert 0.0 <= metrics["test_exact_match"] <= 1.0
    capsys.readouterr()
    assert exit_status(["--translate", "12+30", "--model-dir", str(output)]) == 0
    answer = capsys.readouterr().out.rstrip("\n").split("\n")[-1]  # after one short epoch it may be empty
    assert len(answer) <= 4
