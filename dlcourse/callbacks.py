"""Training history and callbacks for :meth:`dlcourse.network.Sequential.fit`.

``fit`` calls each callback's hooks in order (the Keras protocol):
``on_train_begin(logs)``, then per epoch ``on_epoch_begin(epoch, logs)`` and
``on_epoch_end(epoch, logs)``, then ``on_train_end(logs)``. ``logs`` holds that
epoch's numbers (``"loss"``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"``,
``"lr"``). A callback stops training by setting ``self.model.stop_training = True``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["History", "Callback", "EarlyStopping"]


class History:
    """Per-epoch numbers of a training run.

    Attributes
    ----------
    history : dict of str to list of float
        ``"loss"`` (mean training loss over the epoch's batches, as the weights changed),
        ``"accuracy"`` (for classification losses), ``"val_loss"``/``"val_accuracy"``
        (after the epoch, in evaluation mode, when ``validation_data`` was given), ``"lr"``.
    epoch : list of int
        Epoch numbers, from 0.
    fit_time : float
        Wall-clock seconds that ``fit`` took.
    stopped_epoch : int or None
        The epoch after which a callback stopped training, or None.

    ``history["loss"]`` and ``history.loss`` are the same list.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.fit_time = 0.0
        self.stopped_epoch = None

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __getattr__(self, key: str):
        if key.startswith("__") or key == "history":
            raise AttributeError(key)
        try:
            return self.history[key]
        except KeyError:
            raise AttributeError(f"History has no {key!r}; it records {sorted(self.history)}") from None

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class Callback:
    """Base class: override the hooks you need; ``self.model`` is the network being trained."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when a monitored number has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, usually ``"val_loss"`` (needs ``validation_data``).
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        The smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``"auto"``: larger for accuracies.
    restore_best_weights : bool
        Put back the parameters (and batch-norm running statistics) of the best epoch
        when training ends.

    Attributes
    ----------
    best : float
        The best value seen.
    best_epoch : int
        The epoch that reached it.
    stopped_epoch : int or None
        The epoch after which training stopped, or None if it ran to the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be an int >= 0; got {patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(float(min_delta))
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None) -> None:
        available = (logs or {}).get("metrics")
        if available is not None and self.monitor not in available:
            raise ValueError(f"EarlyStopping(monitor={self.monitor!r}): fit records {sorted(available)}; "
                             "pass validation_data= to monitor a val_ number")
        self.best = -np.inf if self.mode == "max" else np.inf
        self.best_epoch, self.wait, self.stopped_epoch, self._best_state = -1, 0, None, None

    def _improved(self, value: float) -> bool:
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping: {self.monitor!r} is not in the epoch logs {sorted(logs or {})}")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best_weights:
                self._best_state = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self._best_state is not None:
            self.model.set_weights(self._best_state)
