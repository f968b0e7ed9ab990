"""The optimizers by hand: first steps worked out from torch.optim's documented formulas and the lecture's,
plus the registry, validation, per-run hyperparameters, purity and the state-row helpers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from optsim.engine.optim.registry import (
    OPTIMIZERS,
    HyperparameterError,
    OptimizerSpec,
    concat_states,
    get_optimizer,
    set_hyperparameter,
    take_rows,
    validate_hyperparameters,
)

EXPECTED = ["sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam",
            "adagrad_lecture", "rmsprop_lecture", "momentum_lecture", "adam_lecture"]


def steps(name: str, hyper: dict, grads: list, start, lr: float = 0.1) -> list[np.ndarray]:
    """Positions after each update for one run fed the given gradients (a list of vectors, or a
    callable of the position)."""
    spec = get_optimizer(name)
    p = np.array([start], dtype=np.float64)
    state, h = spec.init(p), spec.make_hyper([hyper])
    out = [p[0].copy()]
    for g in grads:
        gv = np.array([g(p[0]) if callable(g) else g], dtype=np.float64)
        u, state = spec.update(gv, state, p, np.array([[lr]]), h)
        p = p + u
        out.append(p[0].copy())
    return out


def half_square(x):
    """Gradient of f = 0.5*|x|^2."""
    return x


# ----- torch.optim.SGD ----------------------------------------------------------
def test_sgd_plain_on_half_square() -> None:
    x = steps("sgd", {}, [half_square] * 2, [1.0, -2.0], lr=0.1)
    assert np.allclose(x[1], [1 - 0.1 * 1, -2 - 0.1 * -2], rtol=0, atol=1e-15)  # 0.9, -1.8
    assert np.allclose(x[2], [0.81, -1.62], rtol=0, atol=1e-15)  # x *= (1 - lr) each step


def test_sgd_momentum_first_step_buffer_is_the_gradient() -> None:
    # b1 = g0 = 1 (torch's first step: no dampening, no mu*0); x1 = 1 - 0.1*1 = 0.9
    # g1 = 0.9; b2 = 0.9*1 + 0.9 = 1.8; x2 = 0.9 - 0.1*1.8 = 0.72
    x = steps("sgd", {"momentum": 0.9}, [half_square] * 2, [1.0], lr=0.1)
    assert x[1][0] == pytest.approx(0.9, abs=1e-15)
    assert x[2][0] == pytest.approx(0.72, abs=1e-15)


def test_sgd_dampening_skips_the_first_step() -> None:
    # b1 = g0 = 1 (undamped); x1 = 0.9; b2 = 0.9*1 + (1 - 0.5)*0.9 = 1.35; x2 = 0.9 - 0.135 = 0.765
    x = steps("sgd", {"momentum": 0.9, "dampening": 0.5}, [half_square] * 2, [1.0], lr=0.1)
    assert x[1][0] == pytest.approx(0.9, abs=1e-15)
    assert x[2][0] == pytest.approx(0.765, abs=1e-15)


def test_sgd_nesterov() -> None:
    # b1 = g0 = 1; d1 = g0 + 0.9*b1 = 1.9; x1 = 1 - 0.19 = 0.81
    # g1 = 0.81; b2 = 0.9*1 + 0.81 = 1.71; d2 = 0.81 + 0.9*1.71 = 2.349; x2 = 0.81 - 0.2349 = 0.5751
    x = steps("sgd", {"momentum": 0.9, "nesterov": True}, [half_square] * 2, [1.0], lr=0.1)
    assert x[1][0] == pytest.approx(0.81, abs=1e-15)
    assert x[2][0] == pytest.approx(0.5751, abs=1e-15)


def test_sgd_weight_decay_adds_wd_times_theta() -> None:
    # zero loss gradient: g = 0 + 0.5*theta; theta1 = 2 - 0.1*(0.5*2) = 1.9
    x = steps("sgd", {"weight_decay": 0.5}, [[0.0]], [2.0], lr=0.1)
    assert x[1][0] == pytest.approx(1.9, abs=1e-15)


# ----- torch.optim.Adagrad ------------------------------------------------------
def test_adagrad_first_steps() -> None:
    # fixed g = (3, -4): s1 = (9, 16) -> step lr*3/(3+eps), lr*(-4)/(4+eps) ~ -lr*sign(g)
    # s2 = (18, 32) -> step lr*3/sqrt(18) = lr/sqrt(2), lr*4/sqrt(32) = lr/sqrt(2)
    x = steps("adagrad", {"eps": 0.0}, [[3.0, -4.0]] * 2, [0.0, 0.0], lr=0.1)
    assert np.allclose(x[1], [-0.1, 0.1], rtol=0, atol=1e-16)
    assert np.allclose(x[2] - x[1], [-0.1 / math.sqrt(2), 0.1 / math.sqrt(2)], rtol=1e-15)


def test_adagrad_lr_decay_and_initial_accumulator() -> None:
    # initial_accumulator_value 16, g = 3: s1 = 16 + 9 = 25, step 1 = lr*3/5 (clr = lr/(1 + 0*decay))
    # step 2: s2 = 34, clr = lr/(1 + 1*0.5) -> lr/1.5 * 3/sqrt(34)
    x = steps("adagrad", {"eps": 0.0, "initial_accumulator_value": 16.0, "lr_decay": 0.5}, [[3.0]] * 2, [0.0])
    assert x[1][0] == pytest.approx(-0.1 * 3 / 5, rel=1e-15)
    assert x[2][0] - x[1][0] == pytest.approx(-0.1 / 1.5 * 3 / math.sqrt(34), rel=1e-14)


def test_adagrad_eps_default_is_torchs() -> None:
    # g = 1e-10 equal to eps: the step is lr * 1e-10 / (1e-10 + 1e-10) = lr / 2
    x = steps("adagrad", {}, [[1e-10]], [0.0], lr=0.1)
    assert x[1][0] == pytest.approx(-0.05, rel=1e-12)


# ----- torch.optim.RMSprop ------------------------------------------------------
def test_rmsprop_first_step_starts_the_average_at_zero() -> None:
    # v1 = (1 - 0.99)*g^2 -> step = lr*g/(0.1*|g| + eps) ~ 10*lr*sign(g): ten times the lecture's step
    x = steps("rmsprop", {"eps": 0.0}, [[2.0, -0.5]], [0.0, 0.0], lr=0.01)
    assert np.allclose(x[1], [-0.1, 0.1], rtol=1e-14)


def test_rmsprop_centered_and_momentum() -> None:
    # alpha 0.9, g = 1 both steps. v1 = 0.1, gbar1 = 0.1, avg1 = sqrt(0.1 - 0.01) = sqrt(0.09) = 0.3
    # b1 = 0 + 1/0.3; x1 = -lr/0.3.  v2 = 0.19, gbar2 = 0.19, avg2 = sqrt(0.19 - 0.0361) = sqrt(0.1539)
    # b2 = 0.5/0.3 + 1/sqrt(0.1539); x2 - x1 = -lr*b2
    x = steps("rmsprop", {"alpha": 0.9, "eps": 0.0, "centered": True, "momentum": 0.5}, [[1.0]] * 2, [0.0], lr=0.01)
    assert x[1][0] == pytest.approx(-0.01 / 0.3, rel=1e-14)
    assert x[2][0] - x[1][0] == pytest.approx(-0.01 * (0.5 / 0.3 + 1 / math.sqrt(0.1539)), rel=1e-13)


# ----- torch.optim.Adam / AdamW -------------------------------------------------
def test_adam_moves_exactly_lr_per_coordinate_under_a_constant_gradient() -> None:
    # m1 = 0.1 g, v1 = 0.001 g^2 -> mhat = g, vhat = g^2 -> step = lr*g/(|g| + eps) = lr*sign(g) up to eps
    # step 2: m2 = 0.19 g, bc1 = 0.19; v2 = 0.001999 g^2, bc2 = 0.001999 -> again lr*sign(g)
    g = [300.0, -0.02]
    x = steps("adam", {}, [g] * 3, [0.0, 0.0], lr=0.001)
    for k in (1, 2, 3):
        d = x[k] - x[k - 1]
        assert np.allclose(d, [-0.001, 0.001], rtol=1e-6, atol=0)  # eps/|g| = 5e-7 for the small one
    assert abs(x[1][0] + 0.001) < 1e-12 and abs(x[1][1] - 0.001 * 0.02 / (0.02 + 1e-8)) < 1e-15


def test_adam_amsgrad_keeps_the_largest_second_moment() -> None:
    # g0 = 2, g1 = 0. v1 = 0.001*4 = 0.004; v2 = 0.999*0.004 = 0.003996 < v1, amsgrad keeps 0.004.
    # m2 = 0.9*0.2 = 0.18, mhat = 0.18/0.19; den = sqrt(0.004)/sqrt(1 - 0.999^2) (+eps)
    lr = 0.001
    x = steps("adam", {"amsgrad": True, "eps": 0.0}, [[2.0], [0.0]], [0.0], lr=lr)
    bc2 = 1 - 0.999 ** 2
    want = -lr * (0.18 / 0.19) / (math.sqrt(0.004) / math.sqrt(bc2))
    assert x[2][0] - x[1][0] == pytest.approx(want, rel=1e-12)
    plain = steps("adam", {"eps": 0.0}, [[2.0], [0.0]], [0.0], lr=lr)
    assert plain[2][0] - plain[1][0] == pytest.approx(-lr * (0.18 / 0.19) / (math.sqrt(0.003996) / math.sqrt(bc2)),
                                                      rel=1e-12)


def test_adam_l2_weight_decay_enters_the_gradient() -> None:
    # g = 0 + 0.5*theta = 1 at theta = 2: Adam normalizes it, the step is still lr*sign
    x = steps("adam", {"weight_decay": 0.5}, [[0.0]], [2.0], lr=0.01)
    assert x[1][0] == pytest.approx(2.0 - 0.01, abs=1e-9)


def test_adamw_decays_theta_itself() -> None:
    # theta1 = theta0*(1 - lr*wd) - lr*sign(g) = 2*(1 - 0.01*0.01) - 0.01  (wd default 1e-2)
    x = steps("adamw", {}, [[5.0]], [2.0], lr=0.01)
    assert x[1][0] == pytest.approx(2.0 * (1 - 0.01 * 0.01) - 0.01, abs=1e-10)
    same = steps("adam", {"decoupled_weight_decay": True, "weight_decay": 0.01}, [[5.0]], [2.0], lr=0.01)
    assert same[1][0] == x[1][0]


# ----- torch.optim.NAdam / RAdam ------------------------------------------------
def test_nadam_first_step() -> None:
    # mu1 = 0.9*(1 - 0.5*0.96^(1*0.004)), mu2 = 0.9*(1 - 0.5*0.96^(2*0.004)), P1 = mu1
    # m1 = 0.1 g, den = sqrt(0.001 g^2/0.001) = |g| (eps 0)
    # step = -lr*(1-mu1)/(1-P1) * g/|g| - lr*mu2/(1 - P1*mu2) * 0.1 g/|g|
    mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008)
    lr = 0.002
    want = -lr * (1 - mu1) / (1 - mu1) - lr * mu2 / (1 - mu1 * mu2) * 0.1
    x = steps("nadam", {"eps": 0.0}, [[4.0]], [0.0], lr=lr)
    assert x[1][0] == pytest.approx(want, rel=1e-14)


def test_radam_first_steps_are_unadapted_momentum() -> None:
    # rho_inf = 2/(1-0.999) - 1 = 1999; rho_t = rho_inf - 2t b2^t/(1-b2^t) = 1, 2, 3, ... (about t) <= 5
    # for t <= 5: step = lr * mhat = lr * g for a constant g (no division by sqrt(v)) - RAdam's warm-up
    x = steps("radam", {}, [[3.0]] * 7, [0.0], lr=0.01)
    for k in range(1, 6):
        assert x[k][0] - x[k - 1][0] == pytest.approx(-0.01 * 3.0, rel=1e-12)
    # t = 6: rho_6 > 5, the adaptive step lr*mhat/sqrt(vhat)*r = lr*sign(g)*r with r < 1
    rho_inf = 1999.0
    rho6 = rho_inf - 2 * 6 * 0.999 ** 6 / (1 - 0.999 ** 6)
    r = math.sqrt((rho6 - 4) * (rho6 - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho6))
    assert rho6 > 5
    assert x[6][0] - x[5][0] == pytest.approx(-0.01 * r, rel=1e-7)


# ----- the lecture's ------------------------------------------------------------
def test_adagrad_lecture_first_step_is_lr_per_coordinate() -> None:
    # sigma0 = sqrt(g0^2 / 1) = |g0| -> step = lr*g0/|g0| = lr*sign(g0) exactly (eps = 0), however small g is
    x = steps("adagrad_lecture", {"eps": 0.0}, [[300.0, -0.001]], [0.0, 0.0], lr=0.1)
    assert list(x[1]) == [-0.1, 0.1]
    # with the default eps = 1e-8 added to sigma: lr*|g|/(|g| + 1e-8), within eps/|g| of lr
    y = steps("adagrad_lecture", {}, [[300.0, -0.001]], [0.0, 0.0], lr=0.1)
    assert np.allclose(y[1], [-0.1, 0.1], rtol=1e-5)


def test_adagrad_lecture_second_step_divides_by_root_mean_square() -> None:
    # g0 = 3, g1 = 1: sigma1 = sqrt((9 + 1)/2) = sqrt(5); step 2 = lr*1/sqrt(5)
    x = steps("adagrad_lecture", {"eps": 0.0}, [[3.0], [1.0]], [0.0], lr=0.1)
    assert x[2][0] - x[1][0] == pytest.approx(-0.1 / math.sqrt(5), rel=1e-15)


def test_rmsprop_lecture_sigma0_is_abs_g0() -> None:
    spec = get_optimizer("rmsprop_lecture")
    p = np.zeros((1, 2))
    state, h = spec.init(p), spec.make_hyper([{"eps": 0.0}])
    u, state = spec.update(np.array([[-3.0, 0.5]]), state, p, np.array([[0.1]]), h)
    assert np.sqrt(state.square_avg).tolist() == [[3.0, 0.5]]  # sigma0 = |g0|
    assert u.tolist() == [[0.1, -0.1]]  # lr * sign(g0)
    # sigma1 = sqrt(alpha*sigma0^2 + (1-alpha)*g1^2) = sqrt(0.9*9 + 0.1*1) = sqrt(8.2)
    u, state = spec.update(np.array([[1.0, 0.5]]), state, p + u, np.array([[0.1]]), h)
    assert u[0, 0] == pytest.approx(-0.1 / math.sqrt(8.2), rel=1e-15)
    assert u[0, 1] == pytest.approx(-0.1, rel=1e-15)  # sigma stays 0.5 under an equal gradient


def _notes_factor(t: int, b1: float = 0.9, b2: float = 0.999) -> float:
    """Step / lr of the notes' Adam (m/(1 - b1), sigma/sqrt(1 - b2)) after t equal gradients, eps = 0."""
    return ((1 - b1 ** t) / (1 - b1)) / math.sqrt((1 - b2 ** t) / (1 - b2))


def test_adam_lecture_without_bias_correction_is_the_notes_formula() -> None:
    """bias_correction = false divides by the printed constants 1 - beta: closed forms of the first steps."""
    lr, g0, g1 = 0.1, np.array([4.0, -0.01]), np.array([-2.0, -0.01])
    x = steps("adam_lecture", {"bias_correction": False, "eps": 0.0}, [g0, g1], [0.0, 0.0], lr=lr)
    np.testing.assert_allclose(x[1], -lr * np.sign(g0), rtol=1e-15)  # m1/(1-b1) = g0, sigma1/sqrt(1-b2) = |g0|
    m2 = (0.9 * 0.1 * g0 + 0.1 * g1) / 0.1
    s2 = np.sqrt((0.999 * 0.001 * g0 ** 2 + 0.001 * g1 ** 2) / 0.001)
    np.testing.assert_allclose(x[2] - x[1], -lr * m2 / s2, rtol=1e-14)
    # a steady gradient: the notes' steps grow past lr (1.34 lr at t = 2, ~2.08 lr near t = 12) ...
    y = steps("adam_lecture", {"bias_correction": False, "eps": 0.0}, [[1.0]] * 3000, [0.0], lr=lr)
    sizes = -np.diff(np.array(y)[:, 0])
    factors = np.array([_notes_factor(t) for t in range(1, 3001)])
    np.testing.assert_allclose(sizes, lr * factors, rtol=1e-10)
    assert sizes[1] == pytest.approx(1.3438 * lr, rel=1e-4) and np.argmax(sizes) + 1 == 12
    assert sizes[11] == pytest.approx(2.0770 * lr, rel=1e-4)
    assert sizes[-1] == pytest.approx(0.3244 * lr, rel=1e-3)  # ... then shrink towards sqrt(1 - b2)/(1 - b1) lr = 0.316 lr
    # ... while bias correction keeps every step at lr
    z = steps("adam_lecture", {"eps": 0.0}, [[1.0]] * 50, [0.0], lr=lr)
    np.testing.assert_allclose(-np.diff(np.array(z)[:, 0]), lr, rtol=1e-13)


def test_momentum_lecture_m2() -> None:
    # m1 = -lr*g0; m2 = lambda*m1 - lr*g1 = -lambda*lr*g0 - lr*g1; theta2 = theta0 + m1 + m2
    lam, lr, g0, g1 = 0.9, 0.1, 2.0, -1.0
    x = steps("momentum_lecture", {"momentum": lam}, [[g0], [g1]], [5.0], lr=lr)
    m1 = -lr * g0
    m2 = -lam * lr * g0 - lr * g1
    assert x[1][0] == pytest.approx(5.0 + m1, abs=1e-15)
    assert x[2][0] - x[1][0] == pytest.approx(m2, abs=1e-15)


def test_momentum_lecture_keeps_old_steps_at_their_own_lr() -> None:
    # lr changes from 0.1 to 0.01 at update 2; g = 1 always.
    # lecture: m1 = -0.1, m2 = 0.9*(-0.1) - 0.01*1 = -0.1;  torch sgd: b2 = 0.9 + 1 = 1.9, step = -0.01*1.9 = -0.019
    spec_l, spec_t = get_optimizer("momentum_lecture"), get_optimizer("sgd")
    p = np.zeros((1, 1))
    sl, st = spec_l.init(p), spec_t.init(p)
    hl, ht = spec_l.make_hyper([{"momentum": 0.9}]), spec_t.make_hyper([{"momentum": 0.9}])
    g = np.ones((1, 1))
    for lr in (0.1, 0.01):
        ul, sl = spec_l.update(g, sl, p, np.array([[lr]]), hl)
        ut, st = spec_t.update(g, st, p, np.array([[lr]]), ht)
    assert ul[0, 0] == pytest.approx(-0.1, abs=1e-15)
    assert ut[0, 0] == pytest.approx(-0.019, abs=1e-15)


# ----- registry and defaults ------------------------------------------------------
def test_registry_keys_and_spec_fields() -> None:
    assert list(OPTIMIZERS) == EXPECTED
    for name, spec in OPTIMIZERS.items():
        assert isinstance(spec, OptimizerSpec) and spec.name == name
        assert spec.description and spec.update.__doc__
        assert all(isinstance(spec.defaults[f], bool) for f in spec.structural)
        assert "lr" in spec.defaults


def test_default_learning_rates_are_torchs() -> None:
    lrs = {n: OPTIMIZERS[n].defaults["lr"] for n in ("sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam")}
    assert lrs == {"sgd": 1e-3, "adagrad": 1e-2, "rmsprop": 1e-2, "adam": 1e-3, "adamw": 1e-3, "nadam": 2e-3,
                   "radam": 1e-3}
    assert OPTIMIZERS["adamw"].defaults["weight_decay"] == 1e-2
    assert OPTIMIZERS["adagrad"].defaults["eps"] == 1e-10


def test_get_optimizer_suggests_nearest() -> None:
    assert get_optimizer("adam").name == "adam"
    with pytest.raises(ValueError, match="did you mean 'adamw'"):
        get_optimizer("adamww")


def test_make_hyper_shapes_and_betas_split() -> None:
    h = get_optimizer("adam").make_hyper([{"betas": [0.8, 0.9]}, {"amsgrad": True, "lr": 5.0}, {}])
    assert h._fields == ("beta1", "beta2", "eps", "weight_decay", "amsgrad", "decoupled_weight_decay")
    assert all(a.shape == (3, 1) for a in h)
    assert h.beta1[:, 0].tolist() == [0.8, 0.9, 0.9] and h.beta2[:, 0].tolist() == [0.9, 0.999, 0.999]
    assert h.amsgrad.dtype == np.bool_ and h.amsgrad[:, 0].tolist() == [False, True, False]
    w = get_optimizer("adamw").make_hyper([{}])
    assert w.decoupled_weight_decay[0, 0] and w.weight_decay[0, 0] == 0.01


def test_make_hyper_rejects_invalid_rows() -> None:
    with pytest.raises(HyperparameterError) as err:
        get_optimizer("sgd").make_hyper([{}, {"momentum": -1.0}])
    assert err.value.problems == [("[1].momentum", "Invalid momentum value: -1.0")]


def test_state_and_hyper_field_names() -> None:
    fields = {n: (type(s.init(np.zeros((1, 2))))._fields, type(s.make_hyper([{}]))._fields)
              for n, s in OPTIMIZERS.items()}
    assert fields["sgd"] == (("momentum_buffer", "has_buffer"), ("momentum", "dampening", "weight_decay", "nesterov"))
    assert fields["adagrad"] == (("step", "sum"), ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"))
    assert fields["rmsprop"][0] == ("step", "square_avg", "grad_avg", "momentum_buffer")
    assert fields["adam"][0] == fields["adamw"][0] == ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    assert fields["nadam"][0] == ("step", "exp_avg", "exp_avg_sq", "mu_product")
    assert fields["momentum_lecture"] == (("movement",), ("momentum",))
    assert fields["adam_lecture"] == (("step", "momentum", "square_avg"), ("beta1", "beta2", "eps", "bias_correction"))


# ----- validation -----------------------------------------------------------------
def test_validation_unknown_key_names_the_nearest() -> None:
    assert validate_hyperparameters("sgd", {"momentun": 0.9}) == [
        ("momentun", "unknown hyperparameter 'momentun' for sgd (did you mean 'momentum'?)")]
    assert validate_hyperparameters("adam", {"beta": [0.9, 0.99]})[0][1].endswith("(did you mean 'betas'?)")


def test_validation_types() -> None:
    assert validate_hyperparameters("sgd", {"lr": "0.1"}) == [("lr", "must be a number, not str '0.1'")]
    assert validate_hyperparameters("sgd", {"nesterov": 1}) == [("nesterov", "must be true or false, not int 1")]
    assert validate_hyperparameters("sgd", {"momentum": True}) == [("momentum", "must be a number, not bool True")]
    assert validate_hyperparameters("adam", {"betas": 0.9}) == [
        ("betas", "must be a list of 2 numbers, not float 0.9")]
    assert validate_hyperparameters("adam", {"betas": [0.9, "x"]})[0][0] == "betas"
    assert validate_hyperparameters("adam", {"lr": float("nan")}) == [("lr", "must be a finite number, not nan")]
    assert validate_hyperparameters("adam", {"betas": (0.9, 0.99), "lr": 3, "amsgrad": np.bool_(True)}) == []


def test_validation_torch_rules() -> None:
    assert validate_hyperparameters("sgd", {"lr": -1}) == [("lr", "Invalid learning rate: -1")]
    assert validate_hyperparameters("sgd", {"nesterov": True}) == [
        ("nesterov", "Nesterov momentum requires a momentum and zero dampening")]
    assert validate_hyperparameters("sgd", {"nesterov": True, "momentum": 0.9}) == []
    assert validate_hyperparameters("adam", {"betas": [1.0, 1.0]}) == [
        ("betas", "Invalid beta parameter at index 0: 1.0"), ("betas", "Invalid beta parameter at index 1: 1.0")]
    assert validate_hyperparameters("rmsprop_lecture", {"alpha": 1.5})[0][0] == "alpha"
    assert validate_hyperparameters("adamw", {"decoupled_weight_decay": True})[0][1].startswith(
        "unknown hyperparameter 'decoupled_weight_decay' for adamw")


def test_validation_unknown_optimizer() -> None:
    assert validate_hyperparameters("rmsprob", {}) == [
        ("optimizer", "unknown optimizer 'rmsprob' (did you mean 'rmsprop'?)")]


# ----- per-run hyperparameters, purity, state rows ------------------------------------
def _trajectory(name: str, cfgs: list[dict], starts: np.ndarray, n_steps: int = 40, lr_scale: float = 1.0):
    spec = get_optimizer(name)
    p = starts.copy()
    state, h = spec.init(p), spec.make_hyper(cfgs)
    lr = np.array([[spec.defaults["lr"] * lr_scale * (1 + i)] for i in range(len(cfgs))])
    out = []
    for _ in range(n_steps):
        g = np.stack([p[:, 0] ** 3 - p[:, 1], 4 * p[:, 1] - p[:, 0]], axis=1)  # a lopsided bowl
        u, state = spec.update(g, state, p, lr, h)
        p = p + u
        out.append(p)
    return np.array(out)


MIXED = {
    "sgd": [{"momentum": 0.9, "nesterov": True}, {}, {"momentum": 0.5, "dampening": 0.2, "weight_decay": 0.1}],
    "adagrad": [{"lr_decay": 0.1}, {"initial_accumulator_value": 1.0}, {"weight_decay": 0.2}],
    "rmsprop": [{"centered": True}, {"momentum": 0.9}, {"alpha": 0.9, "weight_decay": 0.1}],
    "adam": [{"amsgrad": True}, {"decoupled_weight_decay": True, "weight_decay": 0.1}, {"weight_decay": 0.1}],
    "adamw": [{"amsgrad": True}, {}, {"betas": (0.5, 0.9)}],
    "nadam": [{"decoupled_weight_decay": True, "weight_decay": 0.1}, {}, {"momentum_decay": 0.1}],
    "radam": [{"decoupled_weight_decay": True, "weight_decay": 0.1}, {}, {"betas": (0.9, 0.9)}],
    "adagrad_lecture": [{}, {"eps": 0.1}, {}],
    "rmsprop_lecture": [{}, {"alpha": 0.5}, {"eps": 1e-3}],
    "momentum_lecture": [{}, {"momentum": 0.5}, {"momentum": 0.0}],
    "adam_lecture": [{}, {"bias_correction": False}, {"betas": (0.5, 0.9), "eps": 1e-3}],
}


@pytest.mark.parametrize("name", EXPECTED)
def test_a_run_in_a_group_is_bit_identical_to_the_run_alone(name: str) -> None:
    """Per-run hyperparameters and flags: a mixed group steps each run exactly as if it were alone
    (this also covers the one-run fast path against the array path)."""
    starts = np.array([[1.0, 0.5], [-0.5, 0.8], [0.3, -1.0]])
    together = _trajectory(name, MIXED[name], starts)
    for i, cfg in enumerate(MIXED[name]):
        alone = _trajectory(name, [cfg] * (i + 1), np.repeat(starts[i : i + 1], i + 1, axis=0))[:, i]
        assert np.array_equal(together[:, i], alone), (name, i)
    assert np.isfinite(together).all()


@pytest.mark.parametrize("name", EXPECTED)
def test_update_never_writes_its_inputs(name: str) -> None:
    spec = get_optimizer(name)
    rng = np.random.default_rng(1)
    p, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    h = spec.make_hyper(MIXED[name])
    lr = np.full((3, 1), 0.01)
    state = spec.update(g, spec.init(p), p, lr, h)[1]  # a state with non-zero arrays
    copies = [a.copy() for a in (p, g, lr, *state, *h)]
    updates, new = spec.update(g, state, p, lr, h)
    for before, after in zip(copies, (p, g, lr, *state, *h)):
        assert np.array_equal(before, after)
    assert updates.shape == (3, 2) and type(new) is type(state)
    updates += 1.0  # the caller may edit the updates without touching the new state
    assert not any(np.shares_memory(updates, a) for a in new)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("n", [0, 1, 7, 100_000])
def test_init_and_update_for_any_number_of_runs(name: str, n: int) -> None:
    spec = get_optimizer(name)
    p = np.ones((n, 2))
    state = spec.init(p)
    h = spec.make_hyper([MIXED[name][i % 3] for i in range(n)])
    assert all(a.shape[0] == n for a in state) and all(a.shape == (n, 1) for a in h)
    u, new = spec.update(np.ones((n, 2)), state, p, np.full((n, 1), 0.1), h)
    assert u.shape == (n, 2) and all(a.shape[0] == n for a in new)
    assert np.isfinite(u).all()


def test_take_rows_and_concat_states_round_trip() -> None:
    spec = get_optimizer("adam")
    p = np.arange(10.0).reshape(5, 2)
    state = spec.update(np.ones((5, 2)), spec.init(p), p, np.full((5, 1), 0.1), spec.make_hyper([{}] * 5))[1]
    rows = [take_rows(state, i) for i in range(5)]
    assert all(a.shape[0] == 1 for r in rows for a in r)
    back = concat_states(rows)
    assert all(np.array_equal(a, b) for a, b in zip(back, state))
    picked = take_rows(state, np.array([4, 0]))
    assert np.array_equal(picked.exp_avg, state.exp_avg[[4, 0]])
    assert take_rows(state, -1).step.shape == (1, 1)
    assert np.array_equal(take_rows(state, np.array([True, False, False, False, True])).exp_avg_sq,
                          state.exp_avg_sq[[0, 4]])
    hyper = concat_states([spec.make_hyper([{}]), spec.make_hyper([{"amsgrad": True}])])  # Hyper works too
    assert hyper.amsgrad[:, 0].tolist() == [False, True]
    with pytest.raises(ValueError):
        concat_states([])


def test_set_hyperparameter_writes_one_run() -> None:
    spec = get_optimizer("adam")
    h = spec.make_hyper([{}, {}])
    set_hyperparameter("adam", h, 1, "betas", (0.5, 0.6))
    set_hyperparameter("adam", h, 0, "amsgrad", True)
    assert h.beta1[:, 0].tolist() == [0.9, 0.5] and h.beta2[:, 0].tolist() == [0.999, 0.6]
    assert h.amsgrad[:, 0].tolist() == [True, False]
    with pytest.raises(HyperparameterError):
        set_hyperparameter("adam", h, 0, "eps", -1.0)


def test_adagrad_initial_accumulator_applies_on_the_first_update_only() -> None:
    """init() sees no hyperparameters, so the accumulator's start value is added on update 1 (as torch's fill)."""
    spec = get_optimizer("adagrad")
    p = np.zeros((1, 1))
    state, h = spec.init(p), spec.make_hyper([{"initial_accumulator_value": 0.5}])
    for _ in range(3):
        _, state = spec.update(np.ones((1, 1)), state, p, np.array([[0.1]]), h)
    assert state.sum[0, 0] == 0.5 + 3.0 and state.step[0, 0] == 3.0


def test_zero_gradient_gives_a_zero_step_not_nan() -> None:
    """A run started on a critical point stays there (eps keeps 0/0 away) in every optimizer."""
    for name, spec in OPTIMIZERS.items():
        p = np.zeros((1, 2))
        u, _ = spec.update(np.zeros((1, 2)), spec.init(p), p, np.array([[0.1]]), spec.make_hyper([{}]))
        assert np.array_equal(u, np.zeros((1, 2))), name


def test_make_hyper_checks_every_row_even_when_rows_look_alike() -> None:
    """Rows are checked once per distinct content, but True == 1 must not let ``nesterov = 1`` through."""
    with pytest.raises(HyperparameterError) as err:
        get_optimizer("sgd").make_hyper([{"momentum": 0.9, "nesterov": True}, {"momentum": 0.9, "nesterov": 1}])
    assert err.value.problems == [("[1].nesterov", "must be true or false, not int 1")]
    h = get_optimizer("sgd").make_hyper([{"momentum": 0.5}] * 3 + [{"momentum": 0.25}])
    assert h.momentum[:, 0].tolist() == [0.5, 0.5, 0.5, 0.25]


def test_adam_lecture_validation() -> None:
    """torch's Adam rules on lr, eps and betas; bias_correction is a flag; there is no weight decay."""
    assert validate_hyperparameters("adam_lecture", {"betas": [0.9, 0.99], "bias_correction": False}) == []
    assert validate_hyperparameters("adam_lecture", {"betas": [1.0, 0.5], "bias_correction": 1}) == [
        ("bias_correction", "must be true or false, not int 1"),
        ("betas", "Invalid beta parameter at index 0: 1.0")]
    assert validate_hyperparameters("adam_lecture", {"weight_decay": 0.1})[0][0] == "weight_decay"


ONE_RUN = [("adam", {}), ("adam", {"weight_decay": 0.1}), ("adam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
           ("adam", {"betas": (0.5, 0.9), "eps": 0.0}), ("adamw", {}), ("adamw", {"weight_decay": 0.0, "eps": 0.0}),
           ("sgd", {}), ("sgd", {"weight_decay": 0.1}), ("sgd", {"momentum": 0.9, "dampening": 0.3}),
           ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.2}),
           ("adagrad", {}), ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
           ("adagrad", {"eps": 0.0}), ("rmsprop", {}), ("rmsprop", {"centered": True, "momentum": 0.9}),
           ("rmsprop", {"centered": True, "weight_decay": 0.1, "alpha": 0.5}), ("rmsprop", {"momentum": 0.5, "eps": 0.0})]


@pytest.mark.parametrize("name,cfg", ONE_RUN)
def test_one_run_float_path_matches_the_array_path(name: str, cfg: dict) -> None:
    """One run takes a Python-float path (engine.optim.one_run); two copies of it take the
    array path: the same bits, and x/0 (eps = 0, a zero gradient) falls back to NumPy's nan."""
    starts = np.array([[1.0, 0.5]])
    alone = _trajectory(name, [cfg], starts)[:, 0]
    pair = _trajectory(name, [cfg, cfg], np.repeat(starts, 2, axis=0))[:, 0]
    assert np.array_equal(alone, pair, equal_nan=True)
    spec = get_optimizer(name)
    zero = np.zeros((1, 2))
    with np.errstate(all="ignore"):  # as inside Simulation.step
        u, _ = spec.update(zero, spec.init(zero), zero, np.full((1, 1), 0.1), spec.make_hyper([cfg]))
        u2, _ = spec.update(zero.repeat(2, 0), spec.init(zero.repeat(2, 0)), zero.repeat(2, 0), np.full((1, 1), 0.1),
                            spec.make_hyper([cfg, cfg]))
    assert np.array_equal(u, u2[:1], equal_nan=True)
