"""Planted mistakes in exercise 1 (Sigmoid and Tanh backward): each must score below full marks with its hint in
the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
SIGMOID = "return dy * self.y * (1 - self.y)"
TANH = "return dy * (1 - self.y ** 2)"

MISTAKES = {
    "tanh-with-sigmoid-derivative": ([(TANH, "return dy * self.y * (1 - self.y)")], "the sigmoid's derivative"),
    "sigmoid-from-exp-overflows": ([(SIGMOID, "return dy * np.exp(-self.x) / (1 + np.exp(-self.x)) ** 2")],
                                   "exp of a large argument overflowed"),
    "sigmoid-forgot-dy": ([(SIGMOID, "return self.y * (1 - self.y)")], "f'(x) alone"),
    "tanh-forgot-dy": ([(TANH, "return 1 - self.y ** 2")], "f'(x) alone"),
    "tanh-on-the-input": ([(TANH, "return dy * (1 - self.x ** 2)")], "evaluated on the input x"),
    "sigmoid-with-tanh-derivative": ([(SIGMOID, "return dy * (1 - self.y ** 2)")], "tanh's derivative"),
    "tanh-recomputed-from-exp": ([(TANH, "t = (np.exp(self.x) - np.exp(-self.x)) / (np.exp(self.x) + np.exp(-self.x))\n"
                                         "        return dy * (1 - t ** 2)")],
                                 "exp of a large argument overflowed"),
    "delegates-to-miniae": ([(TANH, "return dy * Tanh().derivative(self.x, self.y)"),
                             ("from miniae import Activation, gradcheck",
                              "from miniae import Activation, Tanh, gradcheck")],
                            "calls miniae's Tanh"),
}
