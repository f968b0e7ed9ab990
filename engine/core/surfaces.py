"""Built-in named loss surfaces, written in the formula language.

Each surface is plain data (an expression, its parameters and constants, a
default view window and its known minima) and goes through the same formula
compiler as a user's surface. The minima are for the default constants; a
scenario that overrides a constant may move them.

Two surfaces exist for the lecture's points about sharpness and plateaus:
- sharp_and_flat: minima[0] is the flat minimum near (-0.94, 0), loss -0.953,
  Hessian eigenvalues about 1.65 and 1.66; minima[1] is the sharp one near
  (1.497, 0.499), loss -1.082 (a little deeper), eigenvalues about 53.3 and
  53.4. A shifted test surface hurts the sharp one far more.
- plateau_cliff: for x < -0.3 the loss is about 1 - 0.01 x, a plateau whose
  gradient is about (-0.01, 0); near x = 0 a cliff drops by 1 with slopes up
  to about 5.6; the valley beyond has its minimum at (1.01, 0), loss -0.01005,
  Hessian identity.
"""

from __future__ import annotations

from typing import NamedTuple


class BuiltinSurface(NamedTuple):
    name: str
    expr: str
    params: tuple[str, ...]
    constants: dict[str, float]
    view: dict[str, tuple[float, float]]      # param -> (lo, hi) plotted window
    minima: list[tuple[float, ...]]           # known global/local minima, for markers
    description: str


def _surface(name: str, expr: str, description: str, *, view, minima=(), constants=None,
             params=("x", "y")) -> BuiltinSurface:
    if not isinstance(view, dict):
        view = {p: view for p in params}
    return BuiltinSurface(name, expr, tuple(params), dict(constants or {}),
                          {p: (float(lo), float(hi)) for p, (lo, hi) in view.items()},
                          [tuple(float(v) for v in m) for m in minima], description)


_SURFACES = [
    _surface("quadratic_bowl", "x^2 + y^2",
             "Round bowl x^2 + y^2: every method walks straight to the minimum at 0.",
             view=(-2, 2), minima=[(0, 0)]),
    _surface("ravine", "0.5*(a*x^2 + b*y^2)",
             "Ill-conditioned quadratic (condition number b/a = 50): one rate cannot suit "
             "both directions.",
             constants={"a": 1.0, "b": 50.0}, view={"x": (-5, 5), "y": (-1.5, 1.5)},
             minima=[(0, 0)]),
    _surface("saddle", "x^2 - y^2",
             "Saddle x^2 - y^2: zero gradient at 0, Hessian eigenvalues 2 and -2; escape "
             "along y.",
             view=(-2, 2)),
    _surface("monkey_saddle", "x^3 - 3*x*y^2",
             "Monkey saddle x^3 - 3xy^2: gradient and Hessian both 0 at the origin "
             "(degenerate).",
             view=(-1.5, 1.5)),
    _surface("lecture_w1w2", "(1 - w1*w2)^2",
             "The lecture's y = w1*w2*x on one sample: saddle at (0,0), a valley of flat "
             "minima along w1*w2 = 1.",
             params=("w1", "w2"), view=(-2, 2), minima=[(1, 1), (-1, -1)]),
    _surface("rosenbrock", "(a - x)^2 + b*(y - x^2)^2",
             "Rosenbrock's banana valley: easy to reach, slow to follow to the minimum at "
             "(a, a^2).",
             constants={"a": 1.0, "b": 100.0}, view={"x": (-2, 2), "y": (-1, 3)},
             minima=[(1, 1)]),
    _surface("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
             "Himmelblau: four global minima with loss 0; the start decides which one.",
             view=(-5, 5),
             minima=[(3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                     (-3.779310253377747, -3.283185991286169),
                     (3.5844283403304917, -1.8481265269644034)]),
    _surface("beale",
             "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
             "Beale: flat plateaus and sharp ridges around the minimum at (3, 0.5).",
             view=(-4.5, 4.5), minima=[(3, 0.5)]),
    _surface("booth", "(x + 2*y - 7)^2 + (2*x + y - 5)^2",
             "Booth: a tilted quadratic bowl with its minimum at (1, 3).",
             view=(-10, 10), minima=[(1, 3)]),
    _surface("rastrigin", "2*A + x^2 - A*cos(2*pi*x) + y^2 - A*cos(2*pi*y)",
             "Rastrigin: a bowl covered in local minima near every integer point; global "
             "minimum at 0.",
             constants={"A": 10.0}, view=(-5.12, 5.12), minima=[(0, 0)]),
    _surface("ackley",
             "-a*exp(-b*sqrt(0.5*(x^2 + y^2) + eps^2)) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y)))"
             " + e + a*exp(-b*eps)",
             "Ackley: a nearly flat, bumpy outside and a deep funnel at 0 (tip rounded by "
             "eps so the gradient exists there).",
             constants={"a": 20.0, "b": 0.2, "eps": 0.01}, view=(-5, 5), minima=[(0, 0)]),
    _surface("six_hump_camel", "(4 - 2.1*x^2 + x^4/3)*x^2 + x*y + (-4 + 4*y^2)*y^2",
             "Six-hump camel: two global minima (loss -1.0316) and four local ones.",
             view={"x": (-2, 2), "y": (-1, 1)},
             minima=[(0.08984201310031806, -0.7126564030207396),
                     (-0.08984201310031806, 0.7126564030207396),
                     (1.7036067149699807, -0.7960835686726252),
                     (-1.7036067149699807, 0.7960835686726252),
                     (1.6071047529201974, 0.5686514548841314),
                     (-1.6071047529201974, -0.5686514548841314)]),
    _surface("styblinski_tang", "0.5*(x^4 - 16*x^2 + 5*x + y^4 - 16*y^2 + 5*y)",
             "Styblinski-Tang: four minima in the corners, the global one (-78.332) at "
             "(-2.9035, -2.9035).",
             view=(-5, 5),
             minima=[(-2.903534027771177, -2.903534027771177),
                     (2.746802770990837, -2.903534027771177),
                     (-2.903534027771177, 2.746802770990837),
                     (2.746802770990837, 2.746802770990837)]),
    _surface("sharp_and_flat",
             "k*(x^2 + y^2) - a1*exp(-((x - x1)^2 + (y - y1)^2)/(2*s1^2))"
             " - a2*exp(-((x - x2)^2 + (y - y2)^2)/(2*s2^2))",
             "One wide, flat minimum near (-0.94, 0) and one narrow, slightly deeper, sharp "
             "minimum near (1.50, 0.50).",
             constants={"k": 0.05, "a1": 1.0, "x1": -1.0, "y1": 0.0, "s1": 0.8,
                        "a2": 1.2, "x2": 1.5, "y2": 0.5, "s2": 0.15},
             view={"x": (-3, 3), "y": (-2, 2)},
             minima=[(-0.9396887722405204, 0.0), (1.4967307336866071, 0.49897182018357317)]),
    _surface("plateau_cliff",
             "h*sigmoid(-k*x) - t*x + sigmoid(k*x)*(q*(x - xv)^2 + 0.5*c*y^2)",
             "A plateau with gradient 0.01 for x < 0, a cliff at x = 0 and a valley with its "
             "minimum at (1.01, 0).",
             constants={"h": 1.0, "k": 40.0, "t": 0.01, "q": 0.5, "xv": 1.0, "c": 1.0},
             view={"x": (-2, 2.5), "y": (-1.5, 1.5)}, minima=[(1.01, 0.0)]),
]

BUILTIN_SURFACES: dict[str, BuiltinSurface] = {s.name: s for s in _SURFACES}
