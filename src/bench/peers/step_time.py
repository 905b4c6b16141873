"""Keras and PyTorch peers for `seqlab bench --backends`.

Trains SeqLab's reference model (Embedding -> one recurrent layer -> Dense over the
vocabulary, every position predicting the next token, Adam with global-norm clipping 5)
on random token ids and prints, for each configuration, one JSON line with the wall and
CPU milliseconds per training step. Each framework uses its own defaults for threads and
compilation (Keras: a compiled tf.function train step; PyTorch: eager), as a person who
trains the same model in it would.

Usage: python step_time.py '<JSON list of {"framework", "cell", "vocab", "embedding",
"units", "batch", "seq_len", "steps"}>'
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
WARM_UP = 3


def timed(step, steps):
    for _ in range(WARM_UP):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return (time.perf_counter() - wall) * 1000 / steps, (time.process_time() - cpu) * 1000 / steps


def keras_step(c):
    import keras
    import numpy as np

    layer = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[c["cell"]]
    model = keras.Sequential([
        keras.Input((c["seq_len"],), dtype="int32"),
        keras.layers.Embedding(c["vocab"], c["embedding"]),
        layer(c["units"], return_sequences=True),
        keras.layers.Dense(c["vocab"]),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3, global_clipnorm=5.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.integers(0, c["vocab"], (c["batch"], c["seq_len"]), dtype=np.int32)
    y = rng.integers(0, c["vocab"], (c["batch"], c["seq_len"]), dtype=np.int32)
    return lambda: model.train_on_batch(x, y)


def torch_step(c):
    import torch

    torch.manual_seed(1)
    cell = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[c["cell"]]
    embedding = torch.nn.Embedding(c["vocab"], c["embedding"])
    recurrent = cell(c["embedding"], c["units"], batch_first=True)
    output = torch.nn.Linear(c["units"], c["vocab"])
    parameters = [*embedding.parameters(), *recurrent.parameters(), *output.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    x = torch.randint(0, c["vocab"], (c["batch"], c["seq_len"]))
    y = torch.randint(0, c["vocab"], (c["batch"], c["seq_len"]))

    def step():
        optimizer.zero_grad()
        hidden, _ = recurrent(embedding(x))
        loss = torch.nn.functional.cross_entropy(output(hidden).reshape(-1, c["vocab"]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()

    return step


def main():
    for c in json.loads(sys.argv[1]):
        try:
            step = (keras_step if c["framework"] == "keras" else torch_step)(c)
            wall, cpu = timed(step, c["steps"])
            print(json.dumps({**c, "ms": wall, "cpu_ms": cpu}), flush=True)
        except Exception as error:  # a missing framework is reported, not fatal
            print(json.dumps({**c, "error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    main()
