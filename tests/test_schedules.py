"""mlrecipes.schedules: warm-up then a half cosine that ends at exactly 0."""

import math

import pytest

from mlrecipes.errors import ArgumentValueError
from mlrecipes.schedules import warmup_cosine


def rate(schedule, step):
    return float(schedule(step))


def test_warmup_then_half_cosine_to_zero():
    peak, total, warmup = 3e-3, 1000, 100
    schedule = warmup_cosine(peak, total, warmup)
    assert rate(schedule, 0) == 0.0
    assert rate(schedule, 50) == pytest.approx(peak / 2, rel=1e-5)
    assert rate(schedule, warmup) == pytest.approx(peak, rel=1e-6)
    middle = warmup + (total - warmup) // 2
    assert rate(schedule, middle) == pytest.approx(peak / 2, rel=1e-5)
    quarter = warmup + (total - warmup) // 4
    assert rate(schedule, quarter) == pytest.approx(peak / 2 * (1 + math.cos(math.pi / 4)), rel=1e-5)
    assert rate(schedule, total) == pytest.approx(0.0, abs=1e-9)


def test_the_old_construction_stopped_short_of_zero():
    # CosineDecay(0, decay_steps=T, warmup_steps=T // 20) ends where the cosine has not reached 0:
    # what text_generation and seq2seq did before; warmup_cosine ends at 0.
    import keras

    total = 1000
    old = keras.optimizers.schedules.CosineDecay(0.0, total, warmup_target=1.0, warmup_steps=total // 20)
    assert rate(old, total) > 5e-3
    assert rate(warmup_cosine(1.0, total, total // 20), total) == pytest.approx(0.0, abs=1e-9)


def test_no_warmup_starts_at_the_peak():
    schedule = warmup_cosine(0.1, 10)
    assert rate(schedule, 0) == pytest.approx(0.1)
    assert rate(schedule, 5) == pytest.approx(0.05, rel=1e-5)
    assert rate(schedule, 10) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("args", "argument"),
    [((0.0, 10, 0), "peak_learning_rate"), ((0.1, 0, 0), "total_steps"), ((0.1, 10, 10), "warmup_steps")],
)
def test_bad_arguments_name_the_argument(args, argument):
    with pytest.raises(ArgumentValueError) as raised:
        warmup_cosine(*args)
    assert raised.value.argument == argument and isinstance(raised.value, ValueError)
