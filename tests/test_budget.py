"""The training budget: how many epochs a recipe trains when --epochs is not given."""

import importlib
import math

import pytest

from mlrecipes.budget import TrainingBudget, steps_per_epoch

# Every recipe that trains, with the examples per epoch of its default data set and its default batch size.
RECIPES = {
    "mnist_mlp": (55_000, 512),
    "fashion_mnist_cnn": (55_000, 128),
    "fashion_mnist_vae": (55_000, 128),
    "cifar10_resnet": (45_000, 512),
    "text_classification": (22_500, 32),
    "text_generation": (35_462, 64),  # 128-byte windows of BBC News, its benchmark corpus
    "seq2seq": (16_000, 64),  # the benchmark's 20,000 date pairs
    "linear_regression": (546, 4096),
    "masked_lm_pretraining": (8_068, 16),  # 126-token rows of the BBC News training articles, its benchmark
}


def budget_of(recipe: str) -> TrainingBudget:
    return importlib.import_module(f"recipes.{recipe}").BUDGET


@pytest.mark.parametrize(("labelled", "epochs"), [(50, 100), (250, 63), (1602, 10)])
def test_fine_tuning_gets_enough_steps_from_ten_labels_per_class_to_all(labelled, epochs):
    budget = importlib.import_module("recipes.text_classification").FINETUNE_BUDGET
    assert budget.epochs(labelled, 32) == epochs  # 10 and 50 labels per class of 5 classes, all of BBC News
    assert budget.epochs(labelled, 32) * steps_per_epoch(labelled, 32) >= 200


def test_steps_per_epoch_counts_the_last_partial_batch():
    assert steps_per_epoch(1000, 512) == 2
    assert steps_per_epoch(1024, 512) == 2
    assert steps_per_epoch(1000, 512, drop_remainder=True) == 1


def test_epochs_follow_from_the_steps_within_the_bounds():
    budget = TrainingBudget(steps=756, min_epochs=1, max_epochs=20)
    assert budget.epochs(55_000, 512) == 7  # 108 steps per epoch: 7 epochs = 756 steps
    assert budget.epochs(4_500, 512) == 20  # 9 steps per epoch would need 84 epochs: capped
    assert budget.epochs(900, 512) == 20
    assert budget.epochs(1_000_000, 512) == 1  # one epoch is already 1,954 steps
    assert TrainingBudget(steps=100, min_epochs=4, max_epochs=40).epochs(1_000_000, 64) == 4


def test_epochs_given_on_the_command_line_win():
    assert TrainingBudget(steps=756, max_epochs=20).epochs(900, 512, override=3) == 3


@pytest.mark.parametrize(
    "budget",
    [dict(steps=0), dict(steps=10, min_epochs=0), dict(steps=10, min_epochs=5, max_epochs=4)],
)
def test_a_budget_that_cannot_work_is_refused(budget):
    with pytest.raises(ValueError, match="received"):
        TrainingBudget(**budget)


def test_the_rule_is_described_for_the_help():
    assert TrainingBudget(steps=3010, min_epochs=1, max_epochs=30).describe() == (
        "enough epochs for about 3,010 optimizer steps, at least 1 and at most 30"
    )


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_each_recipe_trains_its_default_data_for_about_its_budget(recipe):
    budget = budget_of(recipe)
    examples, batch = RECIPES[recipe]
    epochs = budget.epochs(examples, batch)
    steps = epochs * steps_per_epoch(examples, batch)
    # Whole epochs: at most one epoch's steps away from the budget, unless the epoch bounds decide.
    assert abs(steps - budget.steps) < steps_per_epoch(examples, batch) or epochs in (
        budget.min_epochs,
        budget.max_epochs,
    )


@pytest.mark.parametrize("recipe", sorted(RECIPES))
@pytest.mark.parametrize("examples", [100, 1_000, 60_000])
def test_small_and_large_data_sets_get_a_sane_number_of_steps(recipe, examples):
    budget = budget_of(recipe)
    _, batch = RECIPES[recipe]
    epochs = budget.epochs(examples, batch)
    per_epoch = steps_per_epoch(examples, batch)
    steps = epochs * per_epoch
    assert budget.min_epochs <= epochs <= budget.max_epochs
    # Never past the budget by more than one epoch (or the minimum of passes).
    assert steps <= max(budget.steps + per_epoch, budget.min_epochs * per_epoch)
    # A small set is not starved: it gets the budget, or as many passes as the recipe allows.
    assert steps >= min(budget.steps, budget.max_epochs * per_epoch)


def test_a_small_image_set_gets_many_more_steps_than_a_fixed_epoch_count_gave():
    # The issue that asked for budgets: 1,000 Fashion-MNIST images (900 to train on) got 6 epochs
    # x 2 batches = 12 steps from mnist_mlp and 7 x 8 = 56 from fashion_mnist_cnn.
    mlp = budget_of("mnist_mlp").epochs(900, 512) * steps_per_epoch(900, 512)
    cnn = budget_of("fashion_mnist_cnn").epochs(900, 128) * steps_per_epoch(900, 128)
    assert mlp >= 3 * 12 and cnn >= 4 * 56
    # ... and the full data set keeps about the length it was tuned at.
    assert budget_of("fashion_mnist_cnn").epochs(55_000, 128) == math.ceil(3010 / 430)
