"""Planted mistakes in exercise 10 (the LSTM step backward, then the layer's loop over time): each must score
below full marks with its hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    # part 1: one step
    "gates-f-o-swapped": ([("df * f * (1 - f), do * o * (1 - o)", "do * o * (1 - o), df * f * (1 - f)")],
                          "the forget and output gates' blocks are swapped"),
    "gates-i-g-swapped": ([("[di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)]",
                            "[dg * (1 - g ** 2), df * f * (1 - f), do * o * (1 - o), di * i * (1 - i)]")],
                          "the input gate's and the candidate's blocks are swapped"),
    "forget-path-dropped": ([("dprev_c = dc * f", "dprev_c = np.zeros_like(dc)")],
                            "the forget gate's path through c is missing"),
    "no-tanh-c-in-do": ([("do = dnext_h * tanh_c", "do = dnext_h")],
                        "tanh(c) is missing in the output gate's gradient"),
    "no-tanh-derivative-in-dc": ([("dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)", "dc = dnext_c + dnext_h * o")],
                                 "the (1 - tanh(c)^2) term is missing in dc"),
    "dnext-c-not-added": ([("dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)", "dc = dnext_h * o * (1 - tanh_c ** 2)")],
                          "dnext_c is not added to dc"),
    "sigmoid-derivative-s": ([("di * i * (1 - i), df * f * (1 - f), do * o * (1 - o)", "di * i, df * f, do * o")],
                             "sigmoid's derivative is written as s instead of s (1 - s)"),
    "tanh-derivative-1-g": ([("dg * (1 - g ** 2)", "dg * (1 - g)")],
                            "tanh's derivative for the candidate is written as (1 - g)"),
    "step-delegates-to-miniae": ([("    ### BEGIN SOLUTION\n    # next_h = o * tanh(next_c)",
                                   "    ### BEGIN SOLUTION\n    return lstm_step_backward(dnext_h, dnext_c, cache)\n"
                                   "    # next_h = o * tanh(next_c)"),
                                  ("from miniae.recurrent import lstm_step_forward",
                                   "from miniae.recurrent import lstm_step_backward, lstm_step_forward")],
                                 "calls miniae's lstm_step_backward"),
    # part 2: backpropagation through time in the layer
    "weights-of-one-step": ([('self.grads["Wx"] += dWx', 'self.grads["Wx"][...] = dWx'),
                             ('self.grads["Wh"] += dWh', 'self.grads["Wh"][...] = dWh'),
                             ('self.grads["b"] += db', 'self.grads["b"][...] = db')],
                            "a missing sum over time for the weights"),
    "grads-not-reset": ([("        for grad in self.grads.values():", "        for grad in []:")],
                        "the gradients were not reset before the sum over time"),
    "loop-forward-in-time": ([("for t in reversed(range(T)):", "for t in range(T):")],
                             "the loop over time runs forward"),
    "dprev-h-not-carried": ([("student_lstm_step_backward(dh[:, t] + dprev_h, dprev_c,",
                              "student_lstm_step_backward(dh[:, t], dprev_c,")],
                            "dprev_h is not carried back"),
    "dh-not-added": ([("student_lstm_step_backward(dh[:, t] + dprev_h, dprev_c,",
                       "student_lstm_step_backward(dprev_h, dprev_c,")],
                     "dh[:, t] is not added"),
    "dprev-c-not-carried": ([("student_lstm_step_backward(dh[:, t] + dprev_h, dprev_c,",
                              "student_lstm_step_backward(dh[:, t] + dprev_h, np.zeros_like(dprev_c),")],
                            "dprev_c is not carried back"),
    "layer-delegates-to-miniae": ([("        ### BEGIN SOLUTION\n        for grad",
                                    "        ### BEGIN SOLUTION\n        return LSTM.backward(self, dy)\n"
                                    "        for grad"),
                                   ("from miniae.layers import Layer", "from miniae.layers import LSTM, Layer")],
                                  "calls miniae's LSTM.backward"),
}
