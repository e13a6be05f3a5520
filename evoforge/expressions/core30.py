"""The 30 `core30` Feynman equations (AI Feynman / SRSD), defined by the project itself.

Formulas, variables and sampling ranges are public facts from the Feynman
Lectures and SRSD's sampling tables; the physical constants are SRSD's
(c = 2.99792458e8, epsilon0 = 8.854e-12, h = 6.626e-34, k_B = 1.380649e-23,
G = 6.6743e-11). `tests/test_expressions_feynman.py` checks every entry against
the published file `feynman/feynman.json` (formula, ranges, tier).

Each variable: (identifier, meaning, distribution, low, high, sign), where the
distribution is "log_uniform", "uniform" or "integer" (high exclusive) and
sign is "positive" or "both" (SRSD's convention).
"""

from __future__ import annotations

Variable = tuple[str, str, str, float, float, str]
Equation = tuple[str, str, str, str, tuple[Variable, ...]]

LOG, UNI, INT = "log_uniform", "uniform", "integer"
PI = 3.141592653589793

CORE30: tuple[Equation, ...] = (
    ("I.12.1", "easy", "friction force F", "mu*Nn", (
        ("mu", "coefficient of friction", LOG, 0.01, 1.0, "positive"),
        ("Nn", "normal force", LOG, 0.01, 1.0, "positive"))),
    ("I.12.4", "easy", "electric field Ef of a point charge", "q1/(4*pi*8.854e-12*r**2)", (
        ("q1", "charge", LOG, 0.1, 10.0, "both"),
        ("r", "distance", LOG, 0.1, 10.0, "positive"))),
    ("I.30.5", "easy", "diffraction angle variable (lambda / (n sin theta))", "lambd/(n*sin(theta))", (
        ("lambd", "wavelength", LOG, 1e-11, 1e-9, "positive"),
        ("n", "number of slits (integer)", INT, 1, 100, "positive"),
        ("theta", "angle", UNI, 0.0, PI / 2, "positive"))),
    ("II.2.42", "easy", "heat flow power Pwr", "kappa*(T2 - T1)*A/d", (
        ("kappa", "thermal conductivity", LOG, 0.1, 10.0, "positive"),
        ("T2", "temperature 2", LOG, 10.0, 1000.0, "positive"),
        ("T1", "temperature 1", LOG, 10.0, 1000.0, "positive"),
        ("A", "area", LOG, 1e-4, 1e-2, "positive"),
        ("d", "thickness", LOG, 0.01, 1.0, "positive"))),
    ("II.4.23", "easy", "electric potential Volt of a point charge", "q/(4*pi*8.854e-12*r)", (
        ("q", "charge", LOG, 1e-3, 0.1, "both"),
        ("r", "distance", LOG, 0.01, 1.0, "positive"))),
    ("II.10.9", "easy", "electric field Ef in a dielectric", "sigma_den/(8.854e-12*(1 + chi))", (
        ("sigma_den", "surface charge density", LOG, 1e-3, 0.1, "both"),
        ("chi", "electric susceptibility", LOG, 1.0, 100.0, "positive"))),
    ("II.15.4", "easy", "energy E_n of a magnetic moment in a field", "-mom*B*cos(theta)", (
        ("mom", "magnetic moment", LOG, 1e-25, 1e-23, "both"),
        ("B", "magnetic field", LOG, 1e-3, 0.1, "both"),
        ("theta", "angle", UNI, 0.0, 2 * PI, "positive"))),
    ("II.27.16", "easy", "energy flux of an electric field", "2.99792458e8*8.854e-12*Ef**2", (
        ("Ef", "electric field", LOG, 0.1, 10.0, "positive"),)),
    ("III.12.43", "easy", "angular momentum L", "n*6.626e-34/(2*pi)", (
        ("n", "quantum number (integer)", INT, 1, 100, "positive"),)),
    ("III.15.27", "easy", "wave number k in a lattice", "2*pi*alpha/(n*d)", (
        ("alpha", "integer index", INT, 1, 100, "both"),
        ("n", "number of atoms (integer)", INT, 1, 100, "positive"),
        ("d", "lattice spacing", LOG, 1e-10, 1e-8, "positive"))),
    ("I.8.14", "medium", "distance d between two points", "sqrt((x2 - x1)**2 + (y2 - y1)**2)", (
        ("x2", "x of point 2", LOG, 0.1, 10.0, "both"),
        ("x1", "x of point 1", LOG, 0.1, 10.0, "both"),
        ("y2", "y of point 2", LOG, 0.1, 10.0, "both"),
        ("y1", "y of point 1", LOG, 0.1, 10.0, "both"))),
    ("I.10.7", "medium", "relativistic mass m", "m_0/sqrt(1 - v**2/2.99792458e8**2)", (
        ("m_0", "rest mass", LOG, 0.1, 10.0, "positive"),
        ("v", "speed", LOG, 1e5, 1e8, "positive"))),
    ("I.18.4", "medium", "centre of mass r of two bodies", "(m1*r1 + m2*r2)/(m1 + m2)", (
        ("m1", "mass 1", LOG, 0.1, 10.0, "positive"),
        ("r1", "position 1", LOG, 0.1, 10.0, "both"),
        ("m2", "mass 2", LOG, 0.1, 10.0, "positive"),
        ("r2", "position 2", LOG, 0.1, 10.0, "both"))),
    ("I.29.4", "medium", "wave number k of light", "omega/2.99792458e8", (
        ("omega", "angular frequency", LOG, 1e9, 1e11, "positive"),)),
    ("I.34.8", "medium", "cyclotron angular frequency omega", "q*v*B/p", (
        ("q", "charge", LOG, 1e-11, 1e-9, "both"),
        ("v", "speed", LOG, 1e5, 1e7, "both"),
        ("B", "magnetic field", LOG, 10.0, 1000.0, "both"),
        ("p", "momentum", LOG, 1e9, 1e11, "both"))),
    ("I.34.10", "medium", "Doppler-shifted angular frequency omega", "omega_0/(1 - v/2.99792458e8)", (
        ("omega_0", "emitted angular frequency", LOG, 1e9, 1e11, "positive"),
        ("v", "speed of the source", LOG, 1e5, 1e7, "both"))),
    ("I.48.2", "medium", "relativistic energy E_n", "m*2.99792458e8**2/sqrt(1 - v**2/2.99792458e8**2)", (
        ("m", "rest mass", LOG, 1e-29, 1e-27, "positive"),
        ("v", "speed", LOG, 1e6, 1e8, "positive"))),
    ("II.34.2a", "medium", "current I of an orbiting charge", "q*v/(2*pi*r)", (
        ("q", "charge", LOG, 1e-11, 1e-9, "both"),
        ("v", "speed", LOG, 1e5, 1e7, "both"),
        ("r", "orbit radius", LOG, 1e-11, 1e-9, "positive"))),
    ("III.15.14", "medium", "effective mass m in a lattice", "(6.626e-34/(2*pi))**2/(2*E_n*d**2)", (
        ("E_n", "energy", LOG, 1e-18, 1e-16, "positive"),
        ("d", "lattice spacing", LOG, 1e-10, 1e-8, "positive"))),
    ("III.19.51", "medium", "hydrogen-like energy level E_n",
     "-m*q**4/(2*(4*pi*8.854e-12)**2*(6.626e-34/(2*pi))**2*n**2)", (
        ("m", "mass", LOG, 1e-30, 1e-28, "positive"),
        ("q", "charge", LOG, 1e-11, 1e-9, "both"),
        ("n", "principal quantum number (integer)", INT, 1, 100, "positive"))),
    ("I.6.20a", "hard", "standard normal density f", "exp(-theta**2/2)/sqrt(2*pi)", (
        ("theta", "argument", LOG, 0.1, 10.0, "both"),)),
    ("I.9.18", "hard", "gravitational force F",
     "6.6743e-11*m1*m2/((x2 - x1)**2 + (y2 - y1)**2 + (z2 - z1)**2)", (
        ("m1", "mass 1", LOG, 1.0, 1000.0, "positive"),
        ("m2", "mass 2", LOG, 1.0, 1000.0, "positive"),
        ("x2", "x of body 2", LOG, 1.0, 10.0, "both"),
        ("x1", "x of body 1", LOG, 1.0, 10.0, "both"),
        ("y2", "y of body 2", LOG, 1.0, 10.0, "both"),
        ("y1", "y of body 1", LOG, 1.0, 10.0, "both"),
        ("z2", "z of body 2", LOG, 1.0, 10.0, "both"),
        ("z1", "z of body 1", LOG, 1.0, 10.0, "both"))),
    ("I.15.3x", "hard", "Lorentz-transformed position x1", "(x - u*t)/sqrt(1 - u**2/2.99792458e8**2)", (
        ("x", "position", LOG, 1.0, 100.0, "both"),
        ("u", "frame speed", LOG, 1e6, 1e8, "both"),
        ("t", "time", LOG, 1e-6, 1e-4, "positive"))),
    ("I.29.16", "hard", "amplitude x of two superposed waves",
     "sqrt(x1**2 + x2**2 + 2*x1*x2*cos(theta1 - theta2))", (
        ("x1", "amplitude 1", LOG, 0.1, 10.0, "positive"),
        ("x2", "amplitude 2", LOG, 0.1, 10.0, "positive"),
        ("theta1", "phase 1", UNI, 0.0, 2 * PI, "positive"),
        ("theta2", "phase 2", UNI, 0.0, 2 * PI, "positive"))),
    ("I.39.22", "hard", "ideal-gas pressure pr", "n*1.380649e-23*T/V", (
        ("n", "number of molecules", LOG, 1e23, 1e25, "positive"),
        ("T", "temperature", LOG, 10.0, 1000.0, "positive"),
        ("V", "volume", LOG, 1e-5, 1e-3, "positive"))),
    ("II.11.17", "hard", "number density n of polarised dipoles",
     "n_0*(1 + p_d*Ef*cos(theta)/(1.380649e-23*T))", (
        ("n_0", "number density without field", LOG, 1e27, 1e29, "positive"),
        ("p_d", "dipole moment", LOG, 1e-22, 1e-20, "both"),
        ("Ef", "electric field", LOG, 10.0, 1000.0, "both"),
        ("theta", "angle", UNI, 0.0, 2 * PI, "positive"),
        ("T", "temperature", LOG, 10.0, 1000.0, "positive"))),
    ("II.11.28", "hard", "dielectric constant theta (Clausius-Mossotti)", "1 + n*alpha/(1 - n*alpha/3)", (
        ("n", "number density", LOG, 1e23, 1e25, "positive"),
        ("alpha", "polarisability", LOG, 1e-33, 1e-31, "positive"))),
    ("III.10.19", "hard", "energy E_n of a moment in a 3-d field", "mom*sqrt(Bx**2 + By**2 + Bz**2)", (
        ("mom", "magnetic moment", LOG, 1e-25, 1e-23, "both"),
        ("Bx", "field x", LOG, 1e-3, 0.1, "both"),
        ("By", "field y", LOG, 1e-3, 0.1, "both"),
        ("Bz", "field z", LOG, 1e-3, 0.1, "both"))),
    ("2.11", "hard", "force on a charge near a grounded plane in a field (Feynman bonus 2)",
     "q/(4*pi*epsilon*y**2)*(4*pi*epsilon*Volt*d - q*d*y**3/(y**2 - d**2)**2)", (
        ("q", "charge", LOG, 1e-3, 0.1, "both"),
        ("epsilon", "permittivity", LOG, 1e-12, 1e-10, "positive"),
        ("y", "distance", LOG, 0.01, 1.0, "positive"),
        ("Volt", "voltage", LOG, 0.1, 10.0, "both"),
        ("d", "distance of the plate", LOG, 0.01, 1.0, "positive"))),
    ("12.80'", "hard", "energy of an anharmonic oscillator (Feynman bonus 12)",
     "(p**2 + m**2*omega**2*x**2*(1 + alpha*x/y))/(2*m)", (
        ("m", "mass", LOG, 1e-30, 1e-28, "positive"),
        ("p", "momentum", LOG, 1e-9, 1e-7, "both"),
        ("omega", "angular frequency", LOG, 1e9, 1e11, "both"),
        ("x", "position", LOG, 1e-11, 1e-9, "both"),
        ("alpha", "anharmonicity", LOG, 0.1, 10.0, "both"),
        ("y", "length scale", LOG, 1e-11, 1e-9, "positive"))),
)
