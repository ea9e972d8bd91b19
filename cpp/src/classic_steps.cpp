// The per-instruction-set entry points of the classic cells' elementwise steps.
#include "kernels.h"
#include "recurrent.h"

namespace minrnn::MINRNN_ISA {

template <class F>
void classic_step_forward(Cell cell, int stage, const StepForward<F>& s) {
  switch (cell) {
    case Cell::RNNTanh: return rnn_forward(s, false);
    case Cell::RNNReLU: return rnn_forward(s, true);
    case Cell::LSTM: return lstm_forward(s);
    case Cell::GRU: return gru_forward(s);
    case Cell::GRUResetBefore: return stage == 0 ? gru_rb_gates_forward(s) : gru_rb_forward(s);
    case Cell::MGU: return stage == 0 ? mgu_gates_forward(s) : mgu_forward(s);
  }
}

template <class F>
void classic_step_backward(Cell cell, int stage, const StepBackward<F>& s) {
  switch (cell) {
    case Cell::RNNTanh: return rnn_backward(s, false);
    case Cell::RNNReLU: return rnn_backward(s, true);
    case Cell::LSTM: return lstm_backward(s);
    case Cell::GRU: return gru_backward(s);
    case Cell::GRUResetBefore: return stage == 0 ? gru_rb_backward_a(s) : gru_rb_backward_b(s);
    case Cell::MGU: return stage == 0 ? mgu_backward_a(s) : mgu_backward_b(s);
  }
}

template void classic_step_forward<float>(Cell, int, const StepForward<float>&);
template void classic_step_forward<double>(Cell, int, const StepForward<double>&);
template void classic_step_backward<float>(Cell, int, const StepBackward<float>&);
template void classic_step_backward<double>(Cell, int, const StepBackward<double>&);

}  // namespace minrnn::MINRNN_ISA
