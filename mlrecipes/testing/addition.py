"""A generated sequence-to-sequence task: sums of two whole numbers, as text -> their result.

keras.io's "Sequence to sequence learning for performing number addition"
teaches recurrent networks on it: `"535+61"` -> `"596"`. The seq2seq
recipe's `--architecture lstm` trains on such pairs (`--data-file`, with
[`mlrecipes.data.sentence_pairs.write_pairs`][mlrecipes.data.sentence_pairs.write_pairs]).
"""

from __future__ import annotations

import random

Pair = tuple[str, str]


def addition_pairs(count: int, *, digits: int = 3, seed: int = 0, reverse_questions: bool = False) -> list[Pair]:
    """`count` different questions `"a+b"` with their answers `"a+b"` evaluated.

    Each number has 1 to `digits` digits (its length drawn first, then its
    digits, as keras.io draws them, so short numbers are as common as long
    ones); a question never appears twice, and `"a+b"` and `"b+a"` count
    as the same question.

    Args:
        count: How many pairs.
        digits: The most digits of each number.
        seed: Seed of the random draws.
        reverse_questions: Write each question backwards (`"16+535"` for
            535+61), as keras.io's example does: the last digits, which the
            answer starts from, are then the encoder's most recent input.

    Returns:
        The pairs `(question, answer)`, such as `("535+61", "596")`.

    Raises:
        ValueError: When there are not `count` different questions of that size.
    """
    largest = 10**digits - 1
    possible = (largest + 1) * (largest + 2) // 2
    if not 1 <= count <= possible // 2:
        raise ValueError(f"count must be between 1 and {possible // 2} for {digits} digits; received count={count}")
    rng = random.Random(seed)

    def number() -> int:
        return int("".join(rng.choice("0123456789") for _ in range(rng.randint(1, digits))))

    seen: set[tuple[int, int]] = set()
    pairs: list[Pair] = []
    while len(pairs) < count:
        a, b = number(), number()
        if (min(a, b), max(a, b)) in seen:
            continue
        seen.add((min(a, b), max(a, b)))
        question = f"{a}+{b}"
        pairs.append((question[::-1] if reverse_questions else question, str(a + b)))
    return pairs
