"""The classification head: what the classifier reads from the encoder (lessons 01 and 03).

A checkpoint learns in pre-training to put what a sentence means somewhere, and a head should read it there:

    "cls"   BERT's own head: the classifier reads the pooler's output, a dense layer with tanh over the [CLS]
            vector. BERT's pre-training trains both (next-sentence prediction), so bert-base/large keep them.
    "mean"  the classifier reads the masked mean of the last layer's token vectors (padding left out). Sentence
            encoders such as all-MiniLM-L6-v2 were trained to produce exactly this mean; their [CLS] vector and
            pooler were never trained for it, so this model has no pooler.

Both heads are dropout and then one Linear layer named `classifier`, so every method, count and adapter treats
them alike. The head of a model's config is its `classifier_pooling` entry (absent means "cls"): it travels
with the config, so a model, its meta-device twin and the closed-form counts agree.
"""

from __future__ import annotations

import copy
import functools
import inspect

import torch
from torch import nn
from transformers import MODEL_MAPPING, AutoModelForSequenceClassification, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

HEADS = ("cls", "mean")
#: The config entry that names the head (the name ModernBERT's config uses for the same choice).
HEAD_ENTRY = "classifier_pooling"


def check_head(head: str) -> str:
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose from {', '.join(HEADS)} ([CLS] and pooler, or the masked "
                         "mean of the last hidden states)")
    return head


def head_of_config(config) -> str:
    """The head a config asks for: its `classifier_pooling` entry, "cls" when it has none."""
    return check_head(getattr(config, HEAD_ENTRY, None) or "cls")


def head_of(model: nn.Module) -> str:
    """"mean" for a `MeanPoolingClassifier`, else "cls" (any other sequence classifier reads its own pooler)."""
    return "mean" if isinstance(model, MeanPoolingClassifier) else "cls"


def with_head(config, head: str):
    """A copy of `config` that names `head` (the config itself is left as it was)."""
    config = copy.deepcopy(config)
    setattr(config, HEAD_ENTRY, check_head(head))
    return config


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """The mean over each sequence's real tokens: (batch, tokens, hidden) -> (batch, hidden)."""
    if attention_mask is None:
        return hidden.mean(1)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class MeanPoolingClassifier(PreTrainedModel):
    """A sequence classifier that reads the masked mean of the encoder's last hidden states.

    Built for one encoder family by `mean_pooling_class` (it inherits that family's weight initialisation and
    `base_model_prefix`, so `from_pretrained` loads the encoder's pre-trained weights into it). The encoder has no
    pooler; the head is dropout and a Linear `classifier`, as in BERT's own sequence classifier. Returns
    transformers' `SequenceClassifierOutput` with the loss when labels are given (cross-entropy, or mean squared
    error for one output).
    """

    encoder_class: type = None  # set by mean_pooling_class

    def __init__(self, config):
        super().__init__(config if head_of_config(config) == "mean" else with_head(config, "mean"))
        pooling = {"add_pooling_layer": False} if "add_pooling_layer" in _init_parameters(self.encoder_class) else {}
        setattr(self, self.base_model_prefix, self.encoder_class(self.config, **pooling))
        dropout = getattr(self.config, "classifier_dropout", None)
        if dropout is None:
            dropout = getattr(self.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.config.hidden_size, self.config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=None, **kwargs):
        outputs = self.base_model(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
        pooled = masked_mean(outputs.last_hidden_state, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            if self.config.num_labels == 1:
                loss = nn.functional.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
            else:
                loss = nn.functional.cross_entropy(logits.view(-1, self.config.num_labels), labels.view(-1))
        output = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states,
                                          attentions=outputs.attentions)
        return output.to_tuple() if return_dict is False else output


def _init_parameters(cls) -> set:
    return set(inspect.signature(cls.__init__).parameters)


@functools.cache
def _mean_pooling_class(encoder_class: type) -> type:
    family = next(c for c in encoder_class.__mro__[1:] if issubclass(c, PreTrainedModel))  # e.g. BertPreTrainedModel
    name = encoder_class.__name__.removesuffix("Model") + "ForMeanPooledClassification"
    return type(name, (MeanPoolingClassifier, family), {"encoder_class": encoder_class, "__module__": __name__})


def mean_pooling_class(config) -> type:
    """The `MeanPoolingClassifier` for the config's encoder family (BertForMeanPooledClassification, ...)."""
    if type(config) not in MODEL_MAPPING:
        raise ValueError(f"no encoder class is known for {type(config).__name__}, so the mean head cannot be built")
    return _mean_pooling_class(MODEL_MAPPING[type(config)])


def build_classifier(config, head: str | None = None) -> nn.Module:
    """A randomly initialised sequence classifier with the given head (default: the config's own)."""
    config = with_head(config, head or head_of_config(config))  # a copy: the model may edit its own config
    if head_of_config(config) == "mean":
        return mean_pooling_class(config)(config)
    return AutoModelForSequenceClassification.from_config(config)


def load_classifier(path: str, config, head: str | None = None) -> nn.Module:
    """The pre-trained encoder at `path` under a freshly initialised head (default: the config's own)."""
    head = check_head(head or head_of_config(config))
    config = with_head(config, head)
    if head == "mean":
        return mean_pooling_class(config).from_pretrained(path, config=config)
    return AutoModelForSequenceClassification.from_pretrained(path, config=config)
