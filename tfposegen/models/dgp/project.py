"""DGP's optimisation: encoder initialisation and the three search phases.

``DGP.py`` in RuiLiFeng/Deep-Generative-Projection:

1. ``wp = E(x)``; the encoder image is ``G(wp)`` with the stored noise maps.
2. projection: Adam on ``wp`` with the projection loss (pixel, VGG, attribute, adversarial).
3. semantic search: a fresh Adam on ``wp`` with the search loss (inner, arm, outer,
   adversarial), comparing against ``x`` and the projection's last image ``P``.
4. pattern search: a fresh Adam on the noise maps only (``wp`` frozen at the semantic
   search result), same loss as 3 (still against ``P``).

Adam is TF1's: lr 0.01, beta1 0.9, beta2 0.999, epsilon 1e-8 (Keras' default 1e-7 would
change the steps of rows with tiny gradients). Each phase runs one compiled step function
(``tf.function``, XLA by default) that computes the loss, updates the variables and returns
the image *before* the update: the image after update ``k`` is the forward pass of step
``k + 1``, so recording it costs no extra generator pass (the original ran one more).
"""

import keras
import numpy as np
import tensorflow as tf

from tfposegen.models.dgp import losses
from tfposegen.train.optimizers import Adam
from tfposegen.train.precision import check_precision

PHASES = ("projection", "semantic_search", "pattern_search")
ADAM = dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def _network_precision(precision, nets):
    """The precision the networks were built with; refuses a mix or a mismatch."""
    if precision is not None:
        check_precision(precision)
    names = {k: getattr(getattr(n, "dtype_policy", None), "name", None)
             for k, n in nets.items() if n is not None}
    names = {k: v for k, v in names.items() if v is not None}
    found = set(names.values())
    if len(found) > 1 or (precision is not None and found and found != {precision}):
        want = precision or names.get("synthesis")
        raise ValueError(
            f"DGPProjector: the networks were built under the dtype policies {names}, "
            f"expected all {want!r}; build them after "
            f"tfposegen.train.precision.set_precision({want!r})")
    return precision or names.get("synthesis", "float32")


class DGPProjector:
    """The optimised variables of one DGP run and a compiled step per phase.

    Args:
        synthesis: ``SynthesisNetwork`` (W+ [1, num_ws, w_dim] -> images [1, R, R, 3]).
        discriminator: ``images [N, R, R, 3] -> logits [N, 1]``.
        encoder: ``images [N, R, R, 3] in [-1, 1] -> W+ [N, num_ws, w_dim]``.
        inputs: ``DGPInputs`` at resolution R.
        vgg: ``VGG16Features`` at R (or None: no VGG term).
        attr: ``AttributeFeatures`` (or None: no attribute term).
        jit_compile: compile the step functions with XLA.
        adv_weight: weight of the adversarial term in every phase (DGP: 1).
        precision: ``"float32"`` or ``"mixed_bfloat16"`` (``tfposegen.train.precision``),
            the policy the networks were built under (``set_precision`` before building
            them); None takes it from ``synthesis``. W+, the noise maps, Adam's slots and
            every loss stay float32; the networks compute in bfloat16 under
            ``mixed_bfloat16`` and return float32.
    """

    def __init__(self, synthesis, discriminator, encoder, inputs, vgg=None, attr=None,
                 jit_compile=True, adv_weight=losses.ADV_WEIGHT, precision=None):
        self.precision = _network_precision(
            precision, {"synthesis": synthesis, "discriminator": discriminator,
                        "encoder": encoder, "vgg": vgg, "attr": attr})
        r = synthesis.resolution
        if inputs.rough_alignment.shape != (r, r, 3):
            raise ValueError(f"inputs are {inputs.rough_alignment.shape[:2]}, the generator "
                             f"makes {r}x{r} images")
        if (encoder.resolution, encoder.num_ws, encoder.w_dim) != (
                r, synthesis.num_ws, synthesis.w_dim):
            raise ValueError(
                f"the encoder ({encoder.resolution} px -> [{encoder.num_ws}, {encoder.w_dim}])"
                f" does not fit the generator ({r} px, W+ [{synthesis.num_ws}, "
                f"{synthesis.w_dim}])")
        self.synthesis, self.discriminator, self.encoder = synthesis, discriminator, encoder
        self.vgg, self.attr = vgg, attr
        self.jit_compile, self.adv_weight = jit_compile, adv_weight
        self.x = tf.constant(inputs.x)
        mask = lambda m: tf.constant(m[None, :, :, None].astype(np.float32))  # noqa: E731
        self.pixel_mask = mask(inputs.pixel_mask)
        self.mask_arm = mask(inputs.mask_arm)
        self.mask_inner = mask(inputs.mask_inner)
        self.noise_init = [v.numpy() for v in synthesis.noise_vars]
        self.wp = keras.Variable(np.zeros((1, synthesis.num_ws, synthesis.w_dim), np.float32),
                                 name="wp")
        self.noise = [keras.Variable(n, name=f"noise{i}") for i, n in enumerate(self.noise_init)]
        self.projected = keras.Variable(np.zeros((1, r, r, 3), np.float32), trainable=False,
                                        name="projected")
        self.optimizer = None
        self.phase = None
        self._step = None
        self._steps = {}  # phase -> (Adam, its initial variable values, compiled step)
        self._render = self._compile(lambda: self.synthesis(self.wp, noise=self.noise))

    def _compile(self, fn):
        return tf.function(fn, jit_compile=self.jit_compile, autograph=False)

    def encode(self):
        """Set ``wp = E(x)`` and reset the noise maps; returns the encoder image [1, R, R, 3]."""
        self.wp.assign(self.encoder(self.x, training=False))
        self.reset_noise()
        return self.render()

    def render(self):
        """G(wp) with the current noise maps: numpy float32 [1, R, R, 3], about [-1, 1]."""
        return self._render().numpy()

    def reset_noise(self):
        """Assign the noise maps loaded with the generator (the original's ``noise_np``)."""
        for var, value in zip(self.noise, self.noise_init):
            var.assign(value)

    def variables(self, phase):
        """The variables ``phase`` optimises."""
        return list(self.noise) if phase == "pattern_search" else [self.wp]

    def start_phase(self, phase, projected=None):
        """Begin ``phase`` with a fresh Adam (moments and step counter at zero).

        The step function is compiled the first time a phase starts and reused after.

        Args:
            phase: one of ``PHASES``.
            projected: for the two search phases, the projection's last image
                [1, R, R, 3] in [-1, 1].
        """
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        if phase != "projection":
            if projected is None:
                raise ValueError(f"{phase} needs the projection's last image")
            self.projected.assign(projected)
        if phase == "pattern_search":
            if not self.noise:
                raise ValueError("pattern search needs noise inputs; this generator has none")
            self.reset_noise()
        if phase not in self._steps:
            self._steps[phase] = self._build_step(phase)
        self.optimizer, fresh, self._step = self._steps[phase]
        for var, value in zip(self.optimizer.variables, fresh):  # a fresh Adam
            var.assign(value)
        self.phase = phase

    def _build_step(self, phase):
        var_list = self.variables(phase)
        optimizer = Adam(**ADAM)
        optimizer.build(var_list)
        fresh = [v.numpy() for v in optimizer.variables]
        loss_fn = self._projection_loss() if phase == "projection" else self._search_loss

        def step():
            with tf.GradientTape() as tape:
                x_rec = self.synthesis(self.wp, noise=self.noise)
                terms = loss_fn(x_rec)
            grads = tape.gradient(terms["total"], var_list)
            optimizer.apply(grads, var_list)
            return terms, x_rec

        return optimizer, fresh, self._compile(step)

    def _projection_loss(self):
        vgg_target = attr_target = None
        if self.vgg is not None:
            vgg_target = self.vgg(losses.vgg_input(self.x, self.pixel_mask))
        if self.attr is not None:
            attr_target = self.attr(losses.attr_input(self.x, self.pixel_mask))

        def loss_fn(x_rec):
            return losses.projection_terms(self.x, x_rec, self.pixel_mask, self.discriminator,
                                           self.vgg, vgg_target, self.attr, attr_target,
                                           self.adv_weight)
        return loss_fn

    def _search_loss(self, x_rec):
        return losses.search_terms(self.x, x_rec, self.projected, self.mask_arm,
                                   self.mask_inner, self.discriminator, self.adv_weight)

    def step(self):
        """One optimisation step of the current phase.

        Returns:
            (terms, image): dict of float loss terms at the variables before the update, and
            the image G renders from those variables, numpy float32 [1, R, R, 3].
        """
        terms, image = self._step()
        return {k: float(v) for k, v in terms.items()}, image.numpy()

    def state(self):
        """The resumable state: dict of numpy arrays (W+, noise maps, Adam variables)."""
        out = {"wp": self.wp.numpy()}
        out.update({f"noise{i}": v.numpy() for i, v in enumerate(self.noise)})
        if self.optimizer is not None:
            out.update({f"adam{i}": v.numpy()
                        for i, v in enumerate(self.optimizer.variables)})
        return out

    def load_state(self, state):
        """Restore what :meth:`state` returned (call after :meth:`start_phase`)."""
        self.wp.assign(state["wp"])
        for i, var in enumerate(self.noise):
            var.assign(state[f"noise{i}"])
        if self.optimizer is not None:
            for i, var in enumerate(self.optimizer.variables):
                var.assign(state[f"adam{i}"])
