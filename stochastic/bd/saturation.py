"""Saturation of a channel current with concentration: Michaelis-Menten fit and current ratios.

A single-file pore with a binding site conducts at most one (or a few) ions at a time: the
current at fixed voltage rises with the bath concentration ``c`` and levels off,

    I(c) = I_max c / (c + K)                                                        (1)

(the one-site, one-ion model of a channel: Läuger, Biochim. Biophys. Acta 311, 423 (1973);
Hille, *Ion Channels of Excitable Membranes*, 3rd ed., ch. 14; Chung, Allen, Hoyles & Kuyucak,
Biophys. J. 77, 2517 (1999) for Brownian dynamics). Mean-field PNP has no ion-ion exclusion and
keeps rising (at most sublinearly through screening), so the ratio ``I(c_hi)/I(c_lo)`` of the two
levels differs where single filing matters. :func:`fit_michaelis_menten` fits (1) by weighted
least squares (``scipy.optimize.curve_fit`` with the measured standard errors as absolute
sigmas) and returns ``I_max``, ``K`` with their standard errors and the chi-square.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stochastic.bd.geometry import BDInputError

__all__ = ["SaturationFit", "current_ratio", "fit_michaelis_menten"]


@dataclass(frozen=True)
class SaturationFit:
    """Michaelis-Menten parameters of a current-concentration curve.

    ``imax`` [the current's unit] and ``k_mM`` [mM] with standard errors; ``chi2`` over ``dof``
    degrees of freedom (``nan`` without errors or with ``dof = 0``).
    """

    imax: float
    imax_err: float
    k_mM: float
    k_err: float
    chi2: float
    dof: int

    def __call__(self, c_mM: np.ndarray | float) -> np.ndarray:
        """The fitted current at concentrations ``c_mM``."""
        c = np.asarray(c_mM, dtype=float)
        return self.imax * c / (c + self.k_mM)


def _model(c: np.ndarray, imax: float, k: float) -> np.ndarray:
    return imax * c / (c + k)


def fit_michaelis_menten(
    c_mM: np.ndarray, current: np.ndarray, current_err: np.ndarray | None = None
) -> SaturationFit:
    """Weighted least-squares fit of ``I = I_max c / (c + K)``.

    Parameters
    ----------
    c_mM
        Bath concentrations [mM], > 0, at least two distinct values.
    current
        Currents at these concentrations (any unit; the sign of their mean is kept).
    current_err
        Standard errors of the currents (> 0), used as absolute sigmas; ``None``: unweighted,
        errors from the residuals.

    Returns
    -------
    SaturationFit
    """
    from scipy.optimize import curve_fit

    c = np.asarray(c_mM, dtype=float).ravel()
    i = np.asarray(current, dtype=float).ravel()
    if c.size != i.size or np.unique(c).size < 2:
        raise BDInputError("give currents at >= 2 distinct concentrations (equal lengths)")
    if not (np.all(np.isfinite(c)) and np.all(c > 0) and np.all(np.isfinite(i))):
        raise BDInputError("concentrations must be finite and > 0 mM, currents finite")
    err = None
    if current_err is not None:
        err = np.asarray(current_err, dtype=float).ravel()
        if err.size != c.size or not (np.all(np.isfinite(err)) and np.all(err > 0)):
            raise BDInputError("current errors must be finite and > 0, one per concentration")
    # start: K at the middle concentration, I_max from the largest current
    k0 = float(np.median(c))
    j = int(np.argmax(c))
    p0 = (i[j] * (c[j] + k0) / c[j], k0)
    popt, pcov = curve_fit(
        _model, c, i, p0=p0, sigma=err, absolute_sigma=err is not None,
        bounds=([-np.inf, 0.0], [np.inf, np.inf]), maxfev=20000,
    )  # fmt: skip
    dof = c.size - 2
    chi2 = float(np.sum(((i - _model(c, *popt)) / err) ** 2)) if err is not None else math.nan
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, np.inf))
    return SaturationFit(float(popt[0]), float(perr[0]), float(popt[1]), float(perr[1]),
                         chi2 if dof > 0 else math.nan, dof)  # fmt: skip


def current_ratio(
    i_hi: float, err_hi: float, i_lo: float, err_lo: float
) -> tuple[float, float]:
    """``I_hi / I_lo`` and its standard error (independent errors, first order)."""
    if i_lo == 0:
        raise BDInputError("the reference current I_lo is zero: no ratio")
    r = i_hi / i_lo
    return r, abs(r) * math.hypot(err_hi / i_hi if i_hi else 0.0, err_lo / i_lo)
