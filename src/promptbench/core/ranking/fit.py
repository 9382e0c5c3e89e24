"""The numerical core of ``ranking``: a Davidson (1970) Bradley–Terry model with ties and a
left-position advantage, fitted by batched damped Newton on log-strengths (numpy only).

Data are count tables over *cells*: one cell per ordered (left, right) pair of contestant
indices that occurs, with three outcomes: left won, right won, tie (``both_bad`` is a tie).
With log-strengths ``theta``, ``g = log(gamma)`` (the left side's strength is multiplied by
gamma) and ``eta = log(nu)``, a cell's outcome is a three-way softmax of the utilities

    u_left = theta_L + g,   u_right = theta_R,   u_tie = eta + (u_left + u_right) / 2

which is exactly Davidson's P(i beats j) = pi_i / (pi_i + pi_j + nu * sqrt(pi_i * pi_j)).
The utilities are linear in the parameters, so the log-likelihood is concave; independent
normal priors (PRIOR_SD) make it strictly concave, so the maximum a posteriori estimate is
unique and finite for any data: a contestant that never lost, all ties, no ties, one
contestant, a disconnected comparison graph or no data at all.  The likelihood does not
change when every theta is shifted by the same amount, so the zero-mean prior puts the
estimate's mean log-strength at exactly 0 (we re-centre anyway against rounding).

Many data sets (bootstrap rounds) are fitted at once: arrays carry a leading batch axis.
"""

from __future__ import annotations

import numpy as np

# Prior standard deviations, natural-log scale.  theta: 3.0 is ~520 rating points, so the
# prior only matters when the data say "infinitely better" (never lost / never won).
PRIOR_SD_THETA = 3.0
PRIOR_SD_LOG_GAMMA = 2.0   # position bias: gamma within e^(+-2) a priori
PRIOR_SD_LOG_NU = 3.0      # tie strength, centred on nu = 1 (P(tie) = 1/3 between equals)

# Floats per array handled in one chunk of data sets (bounds memory: ~12 arrays of cells x
# data sets and one P x P matrix per data set are alive at once).
_CHUNK_BUDGET = 1_500_000


class Design:
    """The cells of one comparison design: which contestants sit left and right in each cell."""

    def __init__(self, left: np.ndarray, right: np.ndarray, n_contestants: int):
        self.left = np.asarray(left, dtype=np.intp)
        self.right = np.asarray(right, dtype=np.intp)
        self.k = int(n_contestants)
        self.p = self.k + 2                       # theta..., g, eta
        self.m = len(self.left)
        sd = np.concatenate([np.full(self.k, PRIOR_SD_THETA), [PRIOR_SD_LOG_GAMMA, PRIOR_SD_LOG_NU]])
        self.precision = 1.0 / sd**2

    def chunk(self) -> int:
        """How many data sets to fit at once within the memory budget."""
        return max(1, _CHUNK_BUDGET // max(12 * self.m, self.p * self.p, 1))


def _utilities(d: Design, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    theta = x[:, : d.k]
    left = theta[:, d.left] + x[:, d.k, None]
    right = theta[:, d.right]
    return left, right, x[:, d.k + 1, None] + 0.5 * (left + right)


def _softmax(u: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """log(sum(exp(u))) and the three probabilities, element-wise over (B, M) arrays."""
    top = np.maximum(np.maximum(u[0], u[1]), u[2])
    e = tuple(np.exp(v - top) for v in u)
    total = e[0] + e[1] + e[2]
    return top + np.log(total), tuple(v / total for v in e)


def log_posterior(d: Design, x: np.ndarray, y: np.ndarray, n: np.ndarray | None = None) -> np.ndarray:
    """Log-likelihood plus log-prior (up to a constant) for each row of x.

    y is (B, 3, M): counts of left wins, right wins and ties per cell; n is y.sum(axis=1).
    """
    u = _utilities(d, x)
    top = np.maximum(np.maximum(u[0], u[1]), u[2])
    lse = top + np.log(np.exp(u[0] - top) + np.exp(u[1] - top) + np.exp(u[2] - top))
    n = y.sum(axis=1) if n is None else n
    ll = (y[:, 0] * u[0] + y[:, 1] * u[1] + y[:, 2] * u[2] - n * lse).sum(axis=1)
    return ll - 0.5 * (x * x * d.precision).sum(axis=1)


def _scatter(values: np.ndarray, index: np.ndarray, width: int) -> np.ndarray:
    """Sum values (B, N) into (B, width) at columns index (N,) or (B, N): one bincount for the batch."""
    rows = values.shape[0]
    flat = (np.arange(rows)[:, None] * width + index).ravel()
    summed = np.bincount(flat, weights=values.ravel(), minlength=rows * width)
    return summed.astype(float, copy=False).reshape(rows, width)   # bincount of nothing is int


def gradient_and_information(d: Design, x: np.ndarray, y: np.ndarray, n: np.ndarray,
                             want_info: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradient of the log-posterior and (if wanted) its negative Hessian, batched.

    The negative Hessian is positive definite thanks to the prior.
    """
    _, (p1, p2, p3) = _softmax(_utilities(d, x))
    r_tie = y[:, 2] - n * p3
    g_left = y[:, 0] - n * p1 + 0.5 * r_tie
    g_right = y[:, 1] - n * p2 + 0.5 * r_tie
    grad = np.empty_like(x)
    grad[:, : d.k] = _scatter(g_left, d.left, d.k) + _scatter(g_right, d.right, d.k)
    grad[:, d.k] = g_left.sum(axis=1)
    grad[:, d.k + 1] = r_tie.sum(axis=1)
    grad -= x * d.precision
    if not want_info:
        return grad, None
    # A cell's Fisher information in utility space is n (diag(p) - p p^T); mapped through
    # d(u)/d(theta_L, theta_R, g, eta) it has six distinct entries, because the g column of
    # that Jacobian equals the theta_L column (so LG = LL, RG = LR, GG = LL, GE = LE).
    q_left, q_right = p1 + 0.5 * p3, p2 + 0.5 * p3
    ll = n * (p1 + 0.25 * p3 - q_left * q_left)
    rr = n * (p2 + 0.25 * p3 - q_right * q_right)
    lr = n * (0.25 * p3 - q_left * q_right)
    le = n * p3 * (0.5 - q_left)
    re = n * p3 * (0.5 - q_right)
    ee = n * p3 * (1.0 - p3)
    k, rows = d.k, len(x)
    info = np.zeros((rows, d.p, d.p))
    diag = np.arange(k)
    info[:, diag, diag] = _scatter(ll, d.left, k) + _scatter(rr, d.right, k)
    info[:, d.left, d.right] += lr          # cells are distinct ordered pairs: no repeated index
    info[:, d.right, d.left] += lr          # (a self-cell's theta entries sum to 0, as they must)
    theta_g = _scatter(ll, d.left, k) + _scatter(lr, d.right, k)
    theta_e = _scatter(le, d.left, k) + _scatter(re, d.right, k)
    info[:, :k, k] = info[:, k, :k] = theta_g
    info[:, :k, k + 1] = info[:, k + 1, :k] = theta_e
    info[:, k, k] = ll.sum(axis=1)
    info[:, k, k + 1] = info[:, k + 1, k] = le.sum(axis=1)
    info[:, k + 1, k + 1] = ee.sum(axis=1)
    info[:, np.arange(d.p), np.arange(d.p)] += d.precision
    return grad, info


def contrast_variance(d: Design, x: np.ndarray, y: np.ndarray, i: int, j: int) -> float:
    """Variance of theta_i - theta_j by the Laplace (normal) approximation at x, with the
    left advantage and the tie strength held at their values in x.

    x (P,) is the maximum a posteriori estimate for the data y (1, 3, M); the variance is
    c' H^-1 c with c = e_i - e_j and H the log-strength block of the negative Hessian of
    the log-posterior there (prior included, so H is positive definite).  Holding g and
    eta fixed keeps a run of votes all shown the same way round from reading as doubt
    about the contestants rather than about the position effect.
    """
    _, info = gradient_and_information(d, x[None, :], y, y.sum(axis=1))
    c = np.zeros(d.k)
    c[i] += 1.0
    c[j] -= 1.0
    return float(c @ np.linalg.solve(info[0, : d.k, : d.k], c))


def vote_information(gap: float, gamma: float, nu: float) -> float:
    """Fisher information on theta_1 - theta_2 of one more vote between two contestants.

    gap = theta_1 - theta_2, gamma the left advantage, nu the tie strength; the vote puts
    either contestant on the left with equal chance.  With the three outcome
    probabilities (left, right, tie) of a placement, one vote adds
    (p_left + p_right - (p_left - p_right)^2) / 4 to the precision of the difference
    (ties carry no information on it); the result is the mean over both placements.
    About 0.25 for two equal contestants without ties, less with ties or a wide gap.
    """
    g, eta = np.log(gamma), np.log(nu)
    total = 0.0
    for first_left in (True, False):
        u_left = (gap / 2.0 if first_left else -gap / 2.0) + g
        u_right = -gap / 2.0 if first_left else gap / 2.0
        u = np.array([u_left, u_right, eta + 0.5 * (u_left + u_right)])
        p = np.exp(u - u.max())
        p /= p.sum()
        total += (p[0] + p[1] - (p[0] - p[1]) ** 2) / 4.0
    return float(total / 2.0)


def _recentre(d: Design, x: np.ndarray) -> np.ndarray:
    if d.k:
        x[:, : d.k] -= x[:, : d.k].mean(axis=1, keepdims=True)
    return x


def newton(d: Design, y: np.ndarray, x0: np.ndarray | None = None, *, tol: float = 1e-7,
           max_iter: int = 100, fixed_inverse: np.ndarray | None = None, chord_iter: int = 10) -> np.ndarray:
    """Maximise the log-posterior for each data set in y (B, 3, M); returns x (B, K + 2).

    Damped Newton: each step is halved until the log-posterior rises (Armijo); data sets
    that have converged (largest step < tol) drop out of the batch.  With fixed_inverse
    (the inverse negative Hessian of a nearby problem, e.g. the full data for bootstrap
    resamples) the first chord_iter steps use it instead of building and solving each
    data set's own Hessian: a chord method, linearly convergent but far cheaper per step;
    data sets still moving afterwards continue with full Newton steps.
    """
    rows = y.shape[0]
    x = np.zeros((rows, d.p)) if x0 is None else np.array(np.broadcast_to(x0, (rows, d.p)), dtype=float)
    n = y.sum(axis=1)
    f = log_posterior(d, x, y, n)
    active = np.arange(rows)
    for it in range(max_iter):
        if active.size == 0:
            break
        xa, ya, na, f0 = x[active], y[active], n[active], f[active]
        chord = fixed_inverse is not None and it < chord_iter
        grad, info = gradient_and_information(d, xa, ya, na, want_info=not chord)
        step = grad @ fixed_inverse if chord else np.linalg.solve(info, grad[..., None])[..., 0]
        slope = (grad * step).sum(axis=1)
        t = np.ones(len(active))
        f_new = f0.copy()
        todo = np.arange(len(active))
        for _ in range(40):
            f1 = log_posterior(d, xa[todo] + t[todo, None] * step[todo], ya[todo], na[todo])
            slack = 1e-12 * (1.0 + np.abs(f0[todo]))
            ok = f1 >= f0[todo] + 1e-4 * t[todo] * slope[todo] - slack
            f_new[todo[ok]] = f1[ok]
            todo = todo[~ok]
            if todo.size == 0:
                break
            t[todo] *= 0.5
        t[todo] = 0.0                      # no ascent found (only at rounding level): stay put
        moved = t[:, None] * step
        x[active] = _recentre(d, xa + moved)
        f[active] = f_new
        active = active[np.abs(moved).max(axis=1) >= tol]
    return x


def fit_batches(d: Design, y: np.ndarray, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """``newton`` over many data sets near one fit (x0 on data y0), in memory-bounded chunks.

    Every data set starts at x0 and takes chord steps with the inverse negative Hessian at
    (x0, y0) first: bootstrap resamples have the full data's information on average.
    """
    _, info = gradient_and_information(d, x0[None, :], y0, y0.sum(axis=1))
    inverse = np.linalg.inv(info[0])
    inverse = 0.5 * (inverse + inverse.T)
    size = d.chunk()
    parts = [newton(d, y[i:i + size], x0, fixed_inverse=inverse) for i in range(0, y.shape[0], size)]
    return np.concatenate(parts) if parts else np.zeros((0, d.p))


def bootstrap_counts(cluster: np.ndarray, column: np.ndarray, count: np.ndarray, n_clusters: int,
                     width: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """Count tables (rounds, width) for bootstrap resamples of whole clusters.

    Columns are outcome * cells + cell, so a table reshapes to (rounds, 3, cells).
    (cluster, column, count) are the non-zero entries of the per-cluster count tables; each
    round draws n_clusters clusters with replacement, and its table is the sum of the drawn
    clusters' tables weighted by how often each was drawn.
    """
    draws = rng.integers(0, n_clusters, size=(rounds, n_clusters))
    weight = _scatter(np.ones(draws.shape), draws, n_clusters)          # times each cluster drawn
    return _scatter(weight[:, cluster] * count, column, width)
