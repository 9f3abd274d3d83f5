"""
Text classification on a sparse hashed matrix
=============================================

:class:`~skbigmodel.LogisticClassifier` trains directly on the CSR matrix that
:class:`~sklearn.feature_extraction.text.HashingVectorizer` produces: tens of
thousands of columns and a few dozen non-zeros per document, never
densified. With more than two classes
it fits one multinomial (softmax) model, where
``SGDClassifier(loss="log_loss")`` fits one binary model per class
(one-vs-rest).

The 20 newsgroups corpus has to be downloaded, so this example generates its
own corpus: four topics, each with its own vocabulary, drawn over a common
background of frequent words, with a share of words borrowed from the other
topics so that the task is not trivial.
"""

# %%
# A generated corpus
# ------------------
# Each document mixes words of its topic (20 %), of the other topics (20 %)
# and of a shared background (60 %), and has 10 to 40 words.

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skbigmodel import LinearClassifier, LogisticClassifier

TOPICS = {
    "space": "orbit launch rocket nasa shuttle satellite moon mars planet "
    "telescope astronaut payload booster lunar solar comet galaxy star "
    "gravity mission probe spacecraft jupiter station crew",
    "medicine": "doctor patient disease treatment drug clinical symptom "
    "therapy vaccine infection hospital diagnosis cancer dose trial "
    "surgery immune virus blood medical nurse pain chronic study",
    "sport": "team game season player coach score league match goal win "
    "playoff hockey baseball pitcher inning fan stadium referee cup "
    "tournament defense striker champion transfer",
    "computing": "software driver windows disk memory graphics card "
    "monitor keyboard file program compiler kernel linux server network "
    "bug install version upgrade cpu ram printer backup",
}
BACKGROUND = (
    "the a of to and in is it that for on with as was be this have from "
    "but not by are at or one all would there their what so up out if "
    "about who get which go me when make can like time no just him know "
    "take people into year your good some could them see other than then "
    "now look only come its over think also back after use two how our "
    "work first well way even new want because any these give day most us"
).split()


def make_corpus(n_documents, seed):
    """Documents and their topic labels."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    words = {name: TOPICS[name].split() for name in names}
    documents, labels = [], []
    for _ in range(n_documents):
        topic = rng.integers(len(names))
        others = [w for k, name in enumerate(names) if k != topic for w in words[name]]
        length = rng.integers(10, 41)
        source = rng.choice(3, size=length, p=[0.2, 0.2, 0.6])
        doc = [
            rng.choice(words[names[topic]])
            if s == 0
            else rng.choice(others)
            if s == 1
            else rng.choice(BACKGROUND)
            for s in source
        ]
        documents.append(" ".join(doc))
        labels.append(names[topic])
    return documents, np.array(labels)


documents, labels = make_corpus(6000, seed=0)
docs_train, docs_test, y_train, y_test = train_test_split(
    documents, labels, test_size=0.25, stratify=labels, random_state=0
)
print(documents[0][:200], "...")

# %%
# Hashing, TF-IDF, and a multinomial model
# ----------------------------------------
# The vectorizer keeps no vocabulary: each word is hashed to one of 2^16
# columns. The matrix stays in CSR format all the way to the classifier.
#
# An epoch of the sparse kernel costs time in proportion to the non-zeros,
# plus one pass over the ``n_features x n_classes`` coefficients at its end,
# where the penalty steps skipped by absent features are applied (see the
# user guide on lazy updates). With few documents and many columns that
# pass dominates, hence 2^16 columns here rather than the default 2^20.
#
# Every model holds out 10 % of the training documents and stops when the
# accuracy on them stops improving (``early_stopping=True``).

vectorizer = HashingVectorizer(n_features=2**16, alternate_sign=False)
X_train = vectorizer.transform(docs_train)
print(
    f"{X_train.shape[0]} documents x {X_train.shape[1]} columns, "
    f"{X_train.nnz / X_train.shape[0]:.0f} non-zeros per row"
)

models = {
    "LinearClassifier() (hinge)": LinearClassifier(
        alpha=1e-4, early_stopping=True, random_state=0
    ),
    "SGDClassifier() (hinge)": SGDClassifier(
        alpha=1e-4, early_stopping=True, random_state=0
    ),
    "LogisticClassifier (multinomial)": LogisticClassifier(
        alpha=1e-4, early_stopping=True, random_state=0
    ),
    "SGDClassifier(log_loss), one-vs-rest": SGDClassifier(
        loss="log_loss", alpha=1e-4, early_stopping=True, random_state=0
    ),
}
pipes = {}
for name, model in models.items():
    pipe = make_pipeline(vectorizer, TfidfTransformer(), model)
    start = time.perf_counter()
    pipe.fit(docs_train, y_train)
    seconds = time.perf_counter() - start
    pipes[name] = pipe
    accuracy = pipe.score(docs_test, y_test)
    print(
        f"{name:<38} test accuracy {accuracy:.3f}, "
        f"{model.n_iter_} epochs, fit {seconds:.2f} s"
    )

# %%
# The first fit includes the compilation of the sparse kernel, unless an
# earlier process left it in Numba's disk cache. A fifth of the words are
# borrowed from another topic and the documents are short, so no model
# comes close to a perfect score on this corpus.
#
# The multinomial model's probabilities are a softmax over the four topics,
# so they sum to one by construction; one-vs-rest probabilities are four
# separate sigmoids, renormalised afterwards.

ours = pipes["LogisticClassifier (multinomial)"]
proba = ours.predict_proba(docs_test[:3])
print(np.round(proba, 3), proba.sum(axis=1))

# %%
# Errors and the words that carry each topic
# ------------------------------------------
# The hashed columns have no names, but hashing a word again gives its column,
# so the largest coefficients of each class can be read back as words.

clf = ours[-1]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
ConfusionMatrixDisplay.from_estimator(ours, docs_test, y_test, ax=left, colorbar=False)
left.set_title("LogisticClassifier on the test documents")

vocabulary = sorted({w for text in TOPICS.values() for w in text.split()})
columns = vectorizer.transform(vocabulary).indices  # one column per word
for k in range(clf.classes_.size):
    weights = clf.coef_[k, columns]
    top = np.argsort(weights)[-5:]
    right.barh(np.arange(5) + 6 * k, weights[top], color=f"C{k}")
    for rank, index in enumerate(top):
        right.text(
            weights[index],
            rank + 6 * k,
            " " + vocabulary[index],
            va="center",
            fontsize=8,
        )
right.set_yticks(6 * np.arange(len(clf.classes_)) + 2, clf.classes_)
right.set_xlabel("coefficient of the word's column")
right.set_title("Five largest coefficients of each class")
right.margins(x=0.25)
plt.show()
