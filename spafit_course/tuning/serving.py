"""One base model, many task adapters (lesson 07): what serving several fine-tuned tasks costs with PEFT.

`AdapterServer` keeps one copy of the base model in memory and each adapter's few tensors beside it;
`use(name)` writes that adapter's tensors into the model, so the model then computes exactly what the adapter
loaded alone (`load_adapter` on a fresh base) computes. Swapping costs a copy of a few hundred kilobytes, not a
model load.

All adapters of a server must fit its base model (the checks of `load_adapter`) and share one SPAFIT layout:
the same `SpafitConfig`, so the same tensors by name. Their heads may have different label counts; the head's
tensors are then swapped whole.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .adapter_format import base_model_facts
from .adapters import _spafit_shapes, check_base_model, check_tensors_fit, read_adapter_config, read_adapter_tensors
from .quiet import quiet_hf
from .spafit import SpafitConfig, apply_spafit


class AdapterServer:
    """A base model and the adapters it can switch between (lesson 07).

    `server = AdapterServer(load_model(name))`, then `server.add("sentiment", folder)` for each adapter saved by
    `save_adapter`, and `server.use("sentiment")` before running `server.model`. Everything an adapter brings is
    checked when it is added, so a bad adapter raises there and leaves the server as it was.
    """

    def __init__(self, base_model: nn.Module):
        if not isinstance(base_model, nn.Module):
            raise TypeError(f"AdapterServer needs a base model (an nn.Module), got {type(base_model).__name__}")
        self.model = base_model.eval()
        self.adapters: dict[str, dict[str, torch.Tensor]] = {}
        self.infos: dict[str, dict] = {}
        self.active: str | None = None
        self._config: SpafitConfig | None = None

    def add(self, name: str, path) -> None:
        """Read, check and keep the adapter saved in folder `path` under `name` (the model is not switched)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"an adapter's name must be a non-empty string, got {name!r}")
        if name in self.adapters:
            raise ValueError(f"an adapter named {name!r} is already here; names: {', '.join(self.adapters)}")
        info = read_adapter_config(path)
        tensors = read_adapter_tensors(path, info)
        config = SpafitConfig.from_dict(info["spafit_config"])
        if self._config is None:
            # the base is still fresh: load_adapter's check, but any label count (the head is swapped whole)
            check_base_model(self.model, {**info, "num_labels": self.model.config.num_labels}, path)
        else:
            if config != self._config:
                raise ValueError(f"adapter {path} has SpafitConfig {config.to_dict()}, but the adapters here share "
                                 f"{self._config.to_dict()}; serve adapters of another layout from another server")
            facts = base_model_facts(self.model)
            wrong = [key for key in ("model_type", "hidden_size", "num_layers", "vocab_size", "head")
                     if key in info and info[key] != facts[key]]
            if wrong:
                raise ValueError(f"adapter {path} was trained on another base model (differing: {', '.join(wrong)})")
        check_tensors_fit(tensors, self._expected_shapes(config, info["num_labels"]), path)
        if self._config is None:
            apply_spafit(self.model, config)
            self.model.eval()
            self._config = config
        self.adapters[name], self.infos[name] = tensors, info

    def _expected_shapes(self, config: SpafitConfig, num_labels: int) -> dict:
        """Name -> (shape, trains?) of the adapted base model with a head of `num_labels` (a meta-device twin)."""
        base_config = copy.deepcopy(self.model.config)
        base_config.num_labels = num_labels
        with torch.device("meta"), quiet_hf():
            twin = type(self.model)(base_config)
        return _spafit_shapes(twin, config)

    @torch.no_grad()
    def use(self, name: str) -> nn.Module:
        """Switch the model to the adapter `name` and return it (in eval mode)."""
        if name not in self.adapters:
            raise KeyError(f"no adapter named {name!r}; choose from {', '.join(self.adapters) or '(none added)'}")
        for tensor_name, tensor in self.adapters[name].items():
            parameter = self.model.get_parameter(tensor_name)
            if parameter.shape == tensor.shape:
                parameter.copy_(tensor)
            else:  # a head with another label count: the tensor is replaced whole
                parameter.data = tensor.to(parameter.device, parameter.dtype).clone()
                owner = self.model.get_submodule(tensor_name.rpartition(".")[0])
                if isinstance(owner, nn.Linear):
                    owner.out_features = parameter.shape[0]
        self.model.config.num_labels = self.infos[name]["num_labels"]
        if hasattr(self.model, "num_labels"):
            self.model.num_labels = self.infos[name]["num_labels"]
        self.active = name
        return self.model.eval()

    def adapter_bytes(self) -> dict[str, int]:
        """{name: bytes of the tensors the server keeps for that adapter}."""
        return {name: sum(t.numel() * t.element_size() for t in tensors.values())
                for name, tensors in self.adapters.items()}
