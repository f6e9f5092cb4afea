"""The baseline's label probabilities for many texts at once: scikit-learn's numbers, faster.

`Pipeline.predict_proba` of the baseline spends most of its time in two places that
have nothing to do with its arithmetic: TfidfVectorizer builds every bigram of every
text as a new string and looks it up in a dict, one feature at a time, and
OneVsRestClassifier multiplies the features by one label's weights at a time,
checking the input anew for each of the labels. Here each word of a text is looked
up once, a bigram is found as a pair of word numbers in a sorted array, and one
sparse product scores every label.

The arithmetic is scikit-learn's, step for step and in the same order: the same
counts in the same sorted columns, `log(count) + 1`, times idf, scikit-learn's own
`normalize`, each label's dot product summed over the row's columns in column order,
plus the intercept, `expit`. So the probabilities are equal bit for bit, which the
tests check against the pipeline itself. A pipeline of any other shape than the one
`baseline.fit` makes is left to scikit-learn.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: TfidfVectorizer's default token pattern: a token never holds a space, so a bigram
#: term splits back into its two words at its one space.
DEFAULT_TOKENS = r"(?u)\b\w\w+\b"
NGRAMS = ((1, 1), (1, 2), (2, 2))

Score = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Vocabulary:
    """A fitted vocabulary as arrays: every word of every term, numbered; the feature
    column of each word alone (-1 when it is no term by itself); and the bigram terms as
    sorted keys `first word * number of words + second word` with their columns."""

    words: dict[str, int]
    unigram_columns: np.ndarray
    bigram_keys: np.ndarray
    bigram_columns: np.ndarray
    columns: int


def compile_vocabulary(terms: Mapping[str, int]) -> Vocabulary:
    """`terms` (a vectorizer's `vocabulary_`: term -> column) as a `Vocabulary`."""
    split = [term.split(" ") for term in terms]
    words = {w: i for i, w in enumerate(dict.fromkeys(itertools.chain.from_iterable(split)))}
    columns = np.fromiter(terms.values(), dtype=np.int64, count=len(terms))
    unigram_columns = np.full(len(words), -1, dtype=np.int64)
    single = [i for i, parts in enumerate(split) if len(parts) == 1]
    unigram_columns[[words[split[i][0]] for i in single]] = columns[single]
    pairs = [i for i, parts in enumerate(split) if len(parts) == 2]
    keys = np.array([words[split[i][0]] * len(words) + words[split[i][1]] for i in pairs],
                    dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    return Vocabulary(words, unigram_columns, keys[order], columns[pairs][order],
                      len(terms))


def _bigram_columns(vocabulary: Vocabulary, first: np.ndarray, second: np.ndarray
                    ) -> np.ndarray:
    """The column of each bigram (first[i], second[i]) of known words, or -1."""
    keys = vocabulary.bigram_keys
    if not len(keys):
        return np.full(len(first), -1, dtype=np.int64)
    wanted = first * len(vocabulary.words) + second
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, vocabulary.bigram_columns[at], -1)


def count_matrix(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> Any:
    """A CSR matrix of how often each (row, column) pair occurs, its columns sorted within
    each row, as CountVectorizer leaves them (the counts are sums of ones: exact)."""
    import scipy.sparse as sp

    counts = sp.coo_matrix((np.ones(len(rows)), (rows, columns)), shape=shape).tocsr()
    counts.sum_duplicates()
    return counts


def term_counts(texts: Sequence[str], vocabulary: Vocabulary,
                tokenize: Callable[[str], list[str]], ngrams: tuple[int, int]) -> Any:
    """The count matrix CountVectorizer.transform gives for `texts`, for a word analyzer
    of unigrams and/or bigrams; `tokenize` is its preprocessor and tokenizer in one."""
    tokenized = [tokenize(text) for text in texts]
    lengths = np.fromiter(map(len, tokenized), dtype=np.int64, count=len(tokenized))
    words = np.fromiter(map(vocabulary.words.get, itertools.chain.from_iterable(tokenized),
                            itertools.repeat(-1)), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    found_rows, found_columns = [], []
    if ngrams[0] == 1:
        known = words >= 0
        found_rows.append(rows[known])
        found_columns.append(vocabulary.unigram_columns[words[known]])
    if ngrams[1] == 2:
        pair = (rows[:-1] == rows[1:]) & (words[:-1] >= 0) & (words[1:] >= 0)
        found_rows.append(rows[:-1][pair])
        found_columns.append(_bigram_columns(vocabulary, words[:-1][pair], words[1:][pair]))
    all_rows, all_columns = np.concatenate(found_rows), np.concatenate(found_columns)
    kept = all_columns >= 0
    return count_matrix(all_rows[kept], all_columns[kept], (len(texts), vocabulary.columns))


def tfidf(counts: Any, idf: np.ndarray | None, sublinear: bool, norm: str | None) -> Any:
    """TfidfTransformer.transform of a count matrix, in place, in its order of steps."""
    from sklearn.preprocessing import normalize

    if sublinear:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    if idf is not None:
        counts.data *= idf[counts.indices]
    return normalize(counts, norm=norm, copy=False) if norm is not None else counts


def label_probabilities(features: Any, weights: np.ndarray, intercepts: np.ndarray
                        ) -> np.ndarray:
    """Binary logistic regressions, one per column of `weights` (features x labels),
    applied at once: expit(features @ weight + intercept), as each one's predict_proba."""
    from scipy.special import expit

    scores = np.asarray(features @ weights)
    scores += intercepts
    return np.asarray(expit(scores, out=scores))


@dataclass(frozen=True)
class FastBaseline:
    """What the fast path keeps of a fitted TF-IDF + one-vs-rest pipeline."""

    tokenize: Callable[[str], list[str]]
    ngrams: tuple[int, int]
    vocabulary: Vocabulary
    idf: np.ndarray | None
    sublinear: bool
    norm: str | None
    weights: np.ndarray
    intercepts: np.ndarray

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0))  # as baseline.probabilities
        counts = term_counts(texts, self.vocabulary, self.tokenize, self.ngrams)
        features = tfidf(counts, self.idf, self.sublinear, self.norm)
        return label_probabilities(features, self.weights, self.intercepts)


def _word_vectorizer(step: Any) -> bool:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return (type(step) is TfidfVectorizer and step.analyzer == "word"
            and step.input == "content" and step.preprocessor is None
            and step.tokenizer is None and step.stop_words is None and not step.binary
            and step.token_pattern == DEFAULT_TOKENS and tuple(step.ngram_range) in NGRAMS
            and step.dtype in (np.float64, "float64") and step.norm in ("l1", "l2", None))


def _binary_logistic_ovr(step: Any, features: int) -> bool:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return (type(step) is OneVsRestClassifier and bool(step.multilabel_)
            and len(step.estimators_) > 1
            and all(type(e) is LogisticRegression and e.coef_.shape == (1, features)
                    and e.coef_.dtype == np.float64 for e in step.estimators_))


def fast_baseline(pipeline: Any) -> FastBaseline | None:
    """The fast path for `pipeline`, or None when it is not of the baseline's shape."""
    from sklearn.pipeline import Pipeline

    if type(pipeline) is not Pipeline or len(pipeline.steps) != 2:
        return None
    vectorizer, classifier = (step for _, step in pipeline.steps)
    if not _word_vectorizer(vectorizer):
        return None
    features = len(vectorizer.vocabulary_)
    if not _binary_logistic_ovr(classifier, features):
        return None
    preprocess, split = vectorizer.build_preprocessor(), vectorizer.build_tokenizer()
    estimators = classifier.estimators_
    weights = np.empty((features, len(estimators)), dtype=np.float64)
    for column, estimator in enumerate(estimators):
        weights[:, column] = estimator.coef_[0]
    return FastBaseline(
        tokenize=lambda text: split(preprocess(text)),
        ngrams=tuple(vectorizer.ngram_range),
        vocabulary=compile_vocabulary(vectorizer.vocabulary_),
        idf=np.asarray(vectorizer.idf_) if vectorizer.use_idf else None,
        sublinear=bool(vectorizer.sublinear_tf), norm=vectorizer.norm,
        weights=weights,
        intercepts=np.array([np.ravel(e.intercept_)[0] for e in estimators], dtype=np.float64))


def scorer(pipeline: Any) -> Score:
    """Texts -> probability of each label: the fast path where the pipeline allows it,
    else the pipeline's own predict_proba."""
    fast = fast_baseline(pipeline)
    if fast is not None:
        return fast
    from paratopics.ml.baseline import probabilities

    return lambda texts: probabilities(pipeline, texts)
