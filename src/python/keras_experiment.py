#!/usr/bin/env python3
"""A SeqLab run's experiment in Keras 3: the same token ids, split, model and training recipe.

Written by `seqlab export --keras-script`. It reads, next to this file:
  experiment.json   the run's settings (cell, sizes, dropout, optimizer, schedule, seed)
  initial.keras     the weights the run started from (used with --initial-weights)
  data/train.json, data/validation.json   the token ids of the run's two parts
  tokenizer.json    SeqLab's tokenizer, copied to the output for `seqlab import`

and writes to --out: metrics.jsonl (one line per epoch, SeqLab's format), model.keras (plain
Keras layers, loadable without custom objects), tokenizer.json and experiment.json.

The recipe is SeqLab's: the training stream is cut into `batch` lanes of consecutive text
whose recurrent state carries over from one window to the next (truncated backpropagation
through time); Adam with the gradient clipped to a global norm; input and output dropout;
tied input and output embeddings when embedding = units; an exponential moving average of
the weights, which validation and the saved model use; the step halved after an epoch that
did not improve; early stopping that keeps the best epoch; and, when the run had one, its
sampled softmax (the batch's targets and the same drawn words as the run, until validation
stops improving and for the last epoch).

Where it runs (--strategy): one device (default); every local device (mirrored); every
worker named in TF_CONFIG (multi-worker); or with --ray N as a Ray Train job of N workers.
Distributed, each replica trains its share of the lanes and one update is made from the
gradient of the whole batch, so the result does not depend on how many replicas there are
(up to float rounding and random dropout masks).
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (the backend is chosen above)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
# SeqLab's streams of per-batch seeds (src/core/fast/trainer.ts, src/core/dropoutSeeds.ts).
DROPOUT_STREAM = 0x2545F491
CANDIDATE_STREAM = 0x27D4EB2F
MAX_TRIES_PER_SAMPLE = 20
STRATEGIES = ("default", "mirrored", "multi-worker")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strategy", choices=STRATEGIES, default="default", help="how to spread training over devices and workers")
    parser.add_argument("--ray", type=int, metavar="N", help="train as a Ray Train job with N workers (multi-worker strategy on each)")
    parser.add_argument("--ray-address", default=None, help="the Ray cluster to join (default: a running local one, else a new one)")
    parser.add_argument("--epochs", type=int, help="override the run's number of epochs")
    parser.add_argument("--out", default=str(HERE / "output"), help="where metrics.jsonl and model.keras go")
    parser.add_argument("--initial-weights", action="store_true", help="start from the run's own initial weights (initial.keras)")
    args = parser.parse_args()
    experiment = json.loads((HERE / "experiment.json").read_text())
    if args.epochs is not None:
        experiment["config"]["epochs"] = args.epochs
    out = Path(args.out).resolve()
    experiment["initialWeights"] = args.initial_weights
    if args.ray:
        train_on_ray(experiment, out, args.ray, args.ray_address)
    else:
        train(experiment, out, args.strategy)


def train_on_ray(experiment, out, workers, address):
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.tensorflow import TensorflowTrainer

    ray.init(address=address, ignore_reinit_error=True)
    # Ray sets TF_CONFIG on every worker, so each one trains under the multi-worker strategy.
    trainer = TensorflowTrainer(
        train_loop_per_worker=lambda _: train(experiment, out, "multi-worker"),
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=False),
        run_config=RunConfig(name="seqlab-keras", storage_path=str(out / "ray")),
    )
    trainer.fit()


def make_strategy(name):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            sys.exit("The multi-worker strategy needs TF_CONFIG naming the cluster and this worker (see the README).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief():
    """Only one worker writes the output: the chief, or worker 0 of a cluster without one (as Ray makes them)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {"type": "chief"})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") in ("chief", "worker") and task.get("index", 0) == 0


def train(experiment, out, strategy_name):
    config = experiment["config"]
    keras.utils.set_random_seed(config["seed"])
    strategy = make_strategy(strategy_name)
    replicas = strategy.num_replicas_in_sync
    train_ids = np.asarray(json.loads((HERE / "data" / "train.json").read_text()), dtype=np.int32)
    validation_ids = np.asarray(json.loads((HERE / "data" / "validation.json").read_text()), dtype=np.int32)
    seq_len = experiment["seqLen"]
    tied = config["tieWeights"] and config["embedding"] == config["units"]

    with strategy.scope():
        model = build_model(experiment, tied)
        if experiment.get("initialWeights"):
            load_initial_weights(model, HERE / "initial.keras")
        else:
            start_at_unigram(model, train_ids, experiment["vocabSize"])
        optimizer = SeqLabAdam(learning_rate=config["learningRate"])
        optimizer.build(model.trainable_variables)
        weights = [v.value for v in model.trainable_variables]
        average = WeightAverage(weights, config["averageDecay"]) if config["averageDecay"] else None
    states_per_layer = 2 if config["cell"] == "lstm" else 1

    def zero_states(rows):
        return [tf.zeros([rows, config["units"]]) for _ in range(config["layers"] * states_per_layer)]

    def replica_step(inputs, targets, states, global_tokens, candidates, corrections):
        with tf.GradientTape() as tape:
            logits, new_states = forward(model, inputs, states, training=True)
            flat_targets = tf.reshape(targets, [-1])
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=flat_targets, logits=logits)
            trained_on = losses
            if candidates is not None:
                # The sampled softmax: the candidates' logits only (each drawn word's with its −log π).
                sampled_logits = tf.gather(logits, candidates, axis=1) + corrections
                positions = tf.tensor_scatter_nd_update(tf.fill([tf.shape(logits)[1]], -1), candidates[:, None], tf.range(tf.shape(candidates)[0]))
                trained_on = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.gather(positions, flat_targets), logits=sampled_logits)
            # Each replica's share of the mean over the whole batch, so the sum over replicas is that mean.
            loss = tf.reduce_sum(trained_on) / tf.cast(global_tokens, tf.float32)
        # Dense, also the embedding's: Adam then updates every row each step, as SeqLab's does
        # (Keras would otherwise update only the rows of the words in the batch).
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
        context = tf.distribute.get_replica_context()
        # The batch's whole gradient first, then clipping: clipping each replica's part
        # would change the update with the number of replicas.
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        gradients, _ = tf.clip_by_global_norm(gradients, config["clipNorm"])
        # Keras sums what the replicas pass in: each passes its share of the whole gradient.
        optimizer.apply_gradients(zip([g / replicas for g in gradients], model.trainable_variables))
        return tf.reduce_sum(losses), word_hits(logits, targets), [tf.stop_gradient(s) for s in new_states]

    @tf.function(reduce_retracing=True)
    def distributed_step(inputs, targets, states, global_tokens, candidates=None, corrections=None):
        loss_sum, hits, new_states = strategy.run(replica_step, args=(inputs, targets, states, global_tokens, candidates, corrections))
        return (
            strategy.reduce(tf.distribute.ReduceOp.SUM, loss_sum, axis=None),
            strategy.reduce(tf.distribute.ReduceOp.SUM, hits, axis=None),
            new_states,
        )

    @tf.function(reduce_retracing=True)
    def evaluation_step(inputs, targets, states):
        logits, new_states = forward(model, inputs, states, training=False)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.reshape(targets, [-1]), logits=logits)
        return tf.reduce_sum(losses), word_hits(logits, targets), new_states

    def validate():
        loss_sum, hits, count = 0.0, 0.0, 0
        states = None
        for inputs, targets, continues in evaluation_batches(validation_ids, seq_len, config["batch"]):
            if not continues or states is None or states[0].shape[0] != inputs.shape[0]:
                states = zero_states(inputs.shape[0])
            batch_loss, batch_hits, states = evaluation_step(tf.constant(inputs), tf.constant(targets), states)
            loss_sum += float(batch_loss)
            hits += float(batch_hits)
            count += targets.size
        return loss_sum / count, hits / count

    rng = Mulberry32(config["seed"])
    batch_seeds = Mulberry32(config["seed"] ^ DROPOUT_STREAM)
    sampler = CandidateSampler(experiment["sampledSoftmax"]) if experiment.get("sampledSoftmax") else None
    epochs = config["epochs"]
    learning_rate = config["learningRate"]
    best = None
    started = time.perf_counter()
    writer = MetricsWriter(out, experiment) if is_chief() else None
    for epoch in range(1, epochs + 1):
        loss_sum, hits, count = 0.0, 0.0, 0
        epoch_started = time.perf_counter()
        batches = training_batches(train_ids, seq_len, config["batch"], replicas, rng)
        states = None
        for inputs, targets in batches:
            rows = inputs.shape[0] // replicas
            if states is None:
                states = strategy.experimental_distribute_values_from_function(lambda _: zero_states(rows))
            shards = lambda array: strategy.experimental_distribute_values_from_function(
                lambda context: tf.constant(array[context.replica_id_in_sync_group * rows : (context.replica_id_in_sync_group + 1) * rows])
            )
            # One seed per batch, as SeqLab draws it, whether or not anything uses it.
            seed = math.floor(batch_seeds.next() * 2**32)
            sampled = sampler.draw(targets.reshape(-1), (seed ^ CANDIDATE_STREAM) & 0xFFFFFFFF) if sampler else ()
            batch_loss, batch_hits, states = distributed_step(shards(inputs), shards(targets), states, tf.constant(targets.size), *sampled)
            if average:
                average.update()
            loss_sum += float(batch_loss)
            hits += float(batch_hits)
            count += targets.size
        seconds = time.perf_counter() - epoch_started
        if average:
            with average.applied():
                val_loss, val_accuracy = validate()
        else:
            val_loss, val_accuracy = validate()
        improved = best is None or val_loss < best["valLoss"]
        if improved:
            best = {"epoch": epoch, "valLoss": val_loss, "weights": average.snapshot() if average else [w.numpy() for w in weights]}
        elapsed = time.perf_counter() - started
        metrics = {
            "epoch": epoch,
            "epochs": epochs,
            "loss": loss_sum / count,
            "accuracy": hits / count,
            "valLoss": val_loss,
            "valAccuracy": val_accuracy,
            "valPerplexity": math.exp(val_loss),
            "tokensPerSecond": count / seconds,
            "elapsedSeconds": elapsed,
            "etaSeconds": elapsed / epoch * (epochs - epoch),
            "best": improved,
            "partial": False,
        }
        print(f"epoch {epoch}/{epochs}: loss {metrics['loss']:.3f}, validation loss {val_loss:.3f} (perplexity {metrics['valPerplexity']:.1f}), {metrics['tokensPerSecond']:.0f} tokens/s", flush=True)
        if writer:
            writer.epoch(metrics)
        if sampler and (not improved or epoch + 1 == epochs):
            sampler = None  # the full softmax from here on, as SeqLab switches
        if not improved:
            learning_rate *= config["lrDecay"]
            optimizer.learning_rate.assign(learning_rate)
            if config["patience"] > 0 and epoch - best["epoch"] >= config["patience"]:
                break
    if writer:
        for variable, value in zip(weights, best["weights"]):
            variable.assign(value)
        writer.model(plain_model(experiment, model, tied))


def forward(model, inputs, states, training):
    """Logits as rows [batch·time, vocabulary], and the state after the last step."""
    logits, *new_states = model([inputs, *states], training=training)
    return tf.reshape(logits, [-1, tf.shape(logits)[-1]]), new_states


def word_hits(logits, targets):
    """Top-1 hits over real words, as SeqLab counts them: <unk> (id 0) is never a hit, nor a guess."""
    targets = tf.reshape(targets, [-1])
    words_only = tf.concat([tf.fill([tf.shape(logits)[0], 1], float("-inf")), logits[:, 1:]], axis=1)
    guesses = tf.argmax(words_only, axis=1, output_type=tf.int32)
    return tf.reduce_sum(tf.cast((guesses == targets) & (targets != 0), tf.float32))


def build_model(experiment, tied):
    """Embedding → dropout → recurrent layers (each with dropout) → logits, with the state in and out."""
    config = experiment["config"]
    seed = config["seed"]
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(
        experiment["vocabSize"], config["embedding"], embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed), name="embedding"
    )
    x = embedding(ids)
    if config["inputDropout"]:
        x = keras.layers.Dropout(config["inputDropout"], name="dropout_input")(x)
    state_inputs, state_outputs = [], []
    for layer in range(config["layers"]):
        recurrent = recurrent_layer(config, layer, seed, return_state=True)
        states = [keras.Input(shape=(config["units"],), name=f"state_{layer + 1}_{k}") for k in range(2 if config["cell"] == "lstm" else 1)]
        x, *new_states = recurrent(x, initial_state=states)
        state_inputs += states
        state_outputs += new_states
        if config["dropout"]:
            x = keras.layers.Dropout(config["dropout"], name=f"dropout_{layer + 1}")(x)
    if tied:
        logits = TiedOutput(embedding, name="dense")(x)
    else:
        logits = keras.layers.Dense(experiment["vocabSize"], name="dense")(x)
    return keras.Model([ids, *state_inputs], [logits, *state_outputs])


def start_at_unigram(model, train_ids, vocab_size):
    """As SeqLab starts: the output bias at the log frequencies of the training tokens (add-one
    smoothed), so training spends its steps on what context adds, not on learning word counts."""
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + 1
    model.get_layer("dense").bias.assign(np.log(counts / counts.sum()).astype(np.float32))


def load_initial_weights(model, path):
    """The run's initial weights, layer by layer in order (a tied output takes only its bias:
    its kernel is the embedding matrix)."""
    initial = [layer for layer in keras.saving.load_model(path).layers if layer.weights]
    trained = [layer for layer in model.layers if layer.weights]
    for source, target in zip(initial, trained):
        weights = source.get_weights()
        if isinstance(target, TiedOutput):
            target.bias.assign(weights[1])
        else:
            target.set_weights(weights)


def recurrent_layer(config, layer, seed, return_state):
    common = dict(
        units=config["units"],
        return_sequences=True,
        return_state=return_state,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1 + layer),
        recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 101 + layer),
        name=f"{config['cell']}_{layer + 1}",
    )
    if config["cell"] == "rnn":
        return keras.layers.SimpleRNN(activation="tanh", **common)
    if config["cell"] == "gru":
        # SeqLab's (and TF.js') GRU applies the reset gate before the recurrent matmul.
        return keras.layers.GRU(activation="tanh", recurrent_activation="sigmoid", reset_after=False, **common)
    return keras.layers.LSTM(activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **common)


def plain_model(experiment, trained, tied):
    """The trained weights in plain Keras layers with a softmax, as `seqlab import` and anyone else load them."""
    config = experiment["config"]
    layers = [keras.Input(shape=(None,), dtype="int32"), keras.layers.Embedding(experiment["vocabSize"], config["embedding"], name="embedding")]
    if config["inputDropout"]:
        layers.append(keras.layers.Dropout(config["inputDropout"], name="dropout_input"))
    for layer in range(config["layers"]):
        layers.append(recurrent_layer(config, layer, config["seed"], return_state=False))
        if config["dropout"]:
            layers.append(keras.layers.Dropout(config["dropout"], name=f"dropout_{layer + 1}"))
    layers.append(keras.layers.Dense(experiment["vocabSize"], activation="softmax", name="dense"))
    model = keras.Sequential(layers)
    for layer in model.layers:
        source = trained.get_layer(layer.name)
        if isinstance(source, TiedOutput):
            embeddings, bias = source.weights_for_dense()
            layer.set_weights([embeddings, bias])
        elif layer.weights:
            layer.set_weights(source.get_weights())
    return model


class TiedOutput(keras.layers.Layer):
    """Logits from the embedding matrix transposed (Press & Wolf 2017) plus a bias: one matrix reads and predicts words."""

    def __init__(self, embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros", name="bias")

    def call(self, x):
        return keras.ops.matmul(x, keras.ops.transpose(self.embedding.embeddings)) + self.bias

    def weights_for_dense(self):
        """The kernel and bias of the plain Dense layer that computes the same."""
        return keras.ops.convert_to_numpy(keras.ops.transpose(self.embedding.embeddings)), keras.ops.convert_to_numpy(self.bias)


class SeqLabAdam(keras.optimizers.Adam):
    """Adam as TF.js, and so SeqLab, steps: ε is added to the bias-corrected √v̂ rather than to
    √v. Keras' placement makes ε up to 30× larger in the first steps, which shows in short runs
    (rows of words not yet seen have v ≈ 0). Otherwise Keras' own update, unchanged."""

    def update_step(self, gradient, variable, learning_rate):
        ops = keras.ops
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, variable.dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, variable.dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        epsilon = self.epsilon * ops.sqrt(1 - beta_2_power)
        self.assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), epsilon)))


class WeightAverage:
    """SeqLab's exponential moving average of the weights, its decay ramped up over the first steps."""

    def __init__(self, variables, decay):
        self.variables = variables
        self.decay = decay
        self.updates = 0
        self.averages = [tf.Variable(tf.identity(v), trainable=False) for v in variables]

    def update(self):
        self.updates += 1
        self._fold_in(tf.constant(min(self.decay, (1 + self.updates) / (10 + self.updates)), tf.float32))

    @tf.function
    def _fold_in(self, decay):
        for average, variable in zip(self.averages, self.variables):
            average.assign(average * decay + variable * (1 - decay))

    def snapshot(self):
        return [a.numpy() for a in self.averages]

    def applied(self):
        average = self

        class Applied:
            def __enter__(self):
                self.trained = [v.numpy() for v in average.variables]
                for variable, value in zip(average.variables, average.averages):
                    variable.assign(value)

            def __exit__(self, *_):
                for variable, value in zip(average.variables, self.trained):
                    variable.assign(value)

        return Applied()


class Mulberry32:
    """SeqLab's seeded generator (src/core/random.ts), so the lanes start where the run's did."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    def int(self, n):
        return math.floor(self.next() * n)


class CandidateSampler:
    """SeqLab's candidate words of a sampled-softmax step (src/core/fast/candidates.ts), from the run's own tables."""

    def __init__(self, tables):
        self.samples = tables["samples"]
        self.proposal = tables["proposal"]
        self.probability = tables["probability"]
        self.alias = tables["alias"]

    def draw(self, targets, seed):
        """The batch's distinct targets, then distinct drawn words; each drawn word's logit correction −log π."""
        ids, seen = [], set()
        for target in targets.tolist():
            if target not in seen:
                seen.add(target)
                ids.append(target)
        from_batch = len(ids)
        size = len(self.proposal)
        rng = Mulberry32(seed)
        wanted = min(self.samples, size - from_batch)
        drawn = tries = 0
        while drawn < wanted and tries < wanted * MAX_TRIES_PER_SAMPLE:
            tries += 1
            column = rng.int(size)
            word = column if rng.next() < self.probability[column] else self.alias[column]
            if word in seen:
                continue
            seen.add(word)
            ids.append(word)
            drawn += 1
        corrections = [0.0] * from_batch + [-math.log(-math.expm1(tries * math.log1p(-self.proposal[word]))) for word in ids[from_batch:]]
        return tf.constant(ids, dtype=tf.int32), tf.constant(corrections, dtype=tf.float32)


def window_count(length, seq_len, offset=0):
    return max(0, (length - offset - 1) // seq_len)


def training_batches(stream, seq_len, batch, replicas, rng):
    """SeqLab's training lanes: `batch` lanes of consecutive text from a random offset, batch k = window k of each lane."""
    offset = rng.int(seq_len) if window_count(len(stream), seq_len, seq_len - 1) >= 2 else 0
    lanes = max(1, min(batch, window_count(len(stream), seq_len, offset)))
    # Every replica takes the same number of lanes.
    lanes = max(replicas, lanes - lanes % replicas)
    lane_length = (len(stream) - offset - 1) // lanes
    for step in range(lane_length // seq_len):
        starts = offset + lane_length * np.arange(lanes) + step * seq_len
        yield windows(stream, starts, seq_len)


def evaluation_batches(stream, seq_len, batch):
    """SeqLab's validation lanes, read to the end of every lane; `continues`: the state carries on from the batch before."""
    targets = len(stream) - 1
    if targets <= 0:
        return
    lanes = max(1, min(batch, targets // seq_len))
    lane_length = targets // lanes
    lengths = [seq_len] * (lane_length // seq_len) + ([lane_length % seq_len] if lane_length % seq_len else [])
    position = 0
    for length in lengths:
        yield (*windows(stream, lane_length * np.arange(lanes) + position, length), position > 0)
        position += length
    leftover = targets - lanes * lane_length
    if leftover:
        yield (*windows(stream, np.arange(1) + lanes * lane_length, leftover), False)


def windows(stream, starts, length):
    index = starts[:, None] + np.arange(length)[None, :]
    return stream[index], stream[index + 1]


class MetricsWriter:
    def __init__(self, out, experiment):
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        (out / "metrics.jsonl").write_text("")
        (out / "experiment.json").write_text(json.dumps(experiment, indent=1))
        (out / "tokenizer.json").write_text((HERE / "tokenizer.json").read_text())

    def epoch(self, metrics):
        with open(self.out / "metrics.jsonl", "a") as file:
            file.write(json.dumps(metrics) + "\n")

    def model(self, model):
        model.save(self.out / "model.keras")


if __name__ == "__main__":
    main()
