;; Hot inference kernels in WebAssembly SIMD (f32x4 / i16x8), assembled at build time by
;; tools/build-wasm.mjs into kernelsWasm.ts. Every kernel works on one shared linear memory
;; (weights, activations and KV cache live there), takes byte offsets, and computes only the
;; work items [a, b) so a pool of threads can split one call. Offset 0 means "none".
;; Plain TypeScript references: engine/kernels/{matmul,attention,activations,quantize}.ts.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; Written by kernels only to order their loads (see matmul_q6k); never read.
  (global $sink (mut i32) (i32.const 0))

  ;; e^x in float64: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite), degree-9 Taylor of e^r
  ;; (error < 1e-11, far below f32 rounding), times 2^n built from the exponent bits.
  (func $exp (param $x f64) (result f64)
    (local $n f64) (local $r f64) (local $p f64)
    (if (f64.lt (local.get $x) (f64.const -708)) (then (return (f64.const 0))))
    (if (f64.gt (local.get $x) (f64.const 709)) (then (return (f64.const inf))))
    (local.set $n (f64.nearest (f64.mul (local.get $x) (f64.const 1.4426950408889634))))
    (local.set $r (f64.sub
      (f64.sub (local.get $x) (f64.mul (local.get $n) (f64.const 0.6931471803691238)))
      (f64.mul (local.get $n) (f64.const 1.9082149292705877e-10))))
    (local.set $p (f64.const 2.7557319223985893e-6))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 2.48015873015873e-5)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1.984126984126984e-4)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1.3888888888888889e-3)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 8.333333333333333e-3)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 4.1666666666666664e-2)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.16666666666666666)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 0.5)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1)))
    (local.set $p (f64.add (f64.mul (local.get $p) (local.get $r)) (f64.const 1)))
    (f64.mul (local.get $p)
      (f64.reinterpret_i64 (i64.shl
        (i64.add (i64.trunc_sat_f64_s (local.get $n)) (i64.const 1023))
        (i64.const 52)))))

  ;; e^x for four x in float32: x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts), degree-6
  ;; Taylor of e^r (relative error below 3e-7), times 2^n built from the exponent bits. x is
  ;; clamped to [-87, 88] (e^-87 ~ 1e-38, e^88 ~ 2e38: 2^n stays a normal float).
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    (local.set $r (f32x4.add
      (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $n) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.38888889e-3 1.38888889e-3 1.38888889e-3 1.38888889e-3))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.33333333e-3 8.33333333e-3 8.33333333e-3 8.33333333e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.16666667e-2 4.16666667e-2 4.16666667e-2 4.16666667e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 0.166666667 0.166666667 0.166666667 0.166666667)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; dot(x, w) over n floats: two vector accumulators, scalar tail.
  (func $dot (param $x i32) (param $w i32) (param $n i32) (result f32)
    (local $i i32) (local $e i32) (local $a v128) (local $b v128) (local $s f32)
    (local.set $e (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $a (f32x4.add (local.get $a) (f32x4.mul
        (v128.load (i32.add (local.get $x) (local.get $i))) (v128.load (i32.add (local.get $w) (local.get $i))))))
      (local.set $b (f32x4.add (local.get $b) (f32x4.mul
        (v128.load offset=16 (i32.add (local.get $x) (local.get $i))) (v128.load offset=16 (i32.add (local.get $w) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (br $l)))
    (local.set $s (call $hsum (f32x4.add (local.get $a) (local.get $b))))
    (local.set $e (i32.shl (local.get $n) (i32.const 2)))
    (block $done2 (loop $l2
      (br_if $done2 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $s (f32.add (local.get $s) (f32.mul
        (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $w) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l2)))
    (local.get $s))

  ;; gelu_tanh(v) as v / (1 + e^(-2u)) (= 0.5 v (1 + tanh u)).
  (func $gelu (param $v f64) (result f64)
    (f64.div (local.get $v) (f64.add (f64.const 1)
      (call $exp (f64.mul (f64.const -1.5957691216057308)
        (f64.add (local.get $v) (f64.mul (f64.const 0.044715) (f64.mul (local.get $v) (f64.mul (local.get $v) (local.get $v))))))))))

  ;; out[n, o] = v + bias[o], then by mode: 0 stored, 1 added to out[n, o] (a residual
  ;; stream), 2 stored through GELU (the MLP's first product, saving a pass over its output).
  (func $store (param $out i32) (param $v f32) (param $bias i32) (param $o i32) (param $mode i32)
    (if (local.get $bias) (then
      (local.set $v (f32.add (local.get $v) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2))))))))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (local.set $v (f32.add (f32.load (local.get $out)) (local.get $v)))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then (local.set $v (f32.demote_f64 (call $gelu (f64.promote_f32 (local.get $v)))))))
    (f32.store (local.get $out) (local.get $v)))

  ;; out[n, o .. o + 4) from the lanes of v as $store does, for the 4-row decode kernels:
  ;; one vector step (GELU in float32 through $exp4) when all 4 columns are below b, else
  ;; lane by lane for the columns that are (the last group of a width not a multiple of 4).
  (func $store4 (param $out i32) (param $v v128) (param $bias i32) (param $o i32) (param $mode i32) (param $b i32)
    (if (i32.le_u (i32.add (local.get $o) (i32.const 4)) (local.get $b)) (then
      (if (local.get $bias) (then
        (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2))))))))
      (if (i32.eq (local.get $mode) (i32.const 1)) (then (local.set $v (f32x4.add (v128.load (local.get $out)) (local.get $v)))))
      (if (i32.eq (local.get $mode) (i32.const 2)) (then
        (local.set $v (f32x4.div (local.get $v) (f32x4.add (v128.const f32x4 1 1 1 1)
          (call $exp4 (f32x4.mul (v128.const f32x4 -1.5957691216 -1.5957691216 -1.5957691216 -1.5957691216)
            (f32x4.add (local.get $v) (f32x4.mul (v128.const f32x4 0.044715 0.044715 0.044715 0.044715)
              (f32x4.mul (local.get $v) (f32x4.mul (local.get $v) (local.get $v))))))))))))
      (v128.store (local.get $out) (local.get $v))
      (return)))
    (call $store (local.get $out) (f32x4.extract_lane 0 (local.get $v)) (local.get $bias) (local.get $o) (local.get $mode))
    (if (i32.lt_u (i32.add (local.get $o) (i32.const 1)) (local.get $b)) (then
      (call $store (i32.add (local.get $out) (i32.const 4)) (f32x4.extract_lane 1 (local.get $v)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))))
    (if (i32.lt_u (i32.add (local.get $o) (i32.const 2)) (local.get $b)) (then
      (call $store (i32.add (local.get $out) (i32.const 8)) (f32x4.extract_lane 2 (local.get $v)) (local.get $bias) (i32.add (local.get $o) (i32.const 2)) (local.get $mode)))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) . w (OC, C)^T + bias, for output columns [a, b).
  ;; Columns go in blocks of 32 weight rows (kept in L2 while every input row passes), inside
  ;; a block 4 input rows x 2 weight rows per step (8 accumulators), or 1 x 4 for the rows left.
  (func $matmul_f32 (export "matmul_f32")
    (param $out i32) (param $inp i32) (param $w i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $ob i32) (local $oe i32) (local $n i32) (local $o i32) (local $i i32) (local $CB i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $wa v128) (local $wb v128) (local $wc v128) (local $wd v128) (local $xv v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $orow i32)
    (local.set $CB (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $n (i32.const 0))
      ;; Tiles need C % 4 == 0; odd widths take the one-dot-at-a-time path below.
      (if (i32.eqz (i32.and (local.get $C) (i32.const 3))) (then
        (block $nDone (loop $nLoop
          (br_if $nDone (i32.gt_u (i32.add (local.get $n) (i32.const 4)) (local.get $N)))
          (local.set $x0 (i32.add (local.get $inp) (i32.mul (local.get $n) (local.get $CB))))
          (local.set $x1 (i32.add (local.get $x0) (local.get $CB)))
          (local.set $x2 (i32.add (local.get $x1) (local.get $CB)))
          (local.set $x3 (i32.add (local.get $x2) (local.get $CB)))
          (local.set $o (local.get $ob))
          (block $oDone (loop $oLoop
            (br_if $oDone (i32.gt_u (i32.add (local.get $o) (i32.const 2)) (local.get $oe)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $CB))))
            (local.set $w1 (i32.add (local.get $w0) (local.get $CB)))
            (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
            (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
            (local.set $s20 (v128.const i32x4 0 0 0 0)) (local.set $s21 (v128.const i32x4 0 0 0 0))
            (local.set $s30 (v128.const i32x4 0 0 0 0)) (local.set $s31 (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $iDone (loop $iLoop
              (br_if $iDone (i32.ge_u (local.get $i) (local.get $CB)))
              (local.set $wa (v128.load (i32.add (local.get $w0) (local.get $i))))
              (local.set $wb (v128.load (i32.add (local.get $w1) (local.get $i))))
              (local.set $xv (v128.load (i32.add (local.get $x0) (local.get $i))))
              (local.set $s00 (f32x4.madd (local.get $xv) (local.get $wa) (local.get $s00)))
              (local.set $s01 (f32x4.madd (local.get $xv) (local.get $wb) (local.get $s01)))
              (local.set $xv (v128.load (i32.add (local.get $x1) (local.get $i))))
              (local.set $s10 (f32x4.madd (local.get $xv) (local.get $wa) (local.get $s10)))
              (local.set $s11 (f32x4.madd (local.get $xv) (local.get $wb) (local.get $s11)))
              (local.set $xv (v128.load (i32.add (local.get $x2) (local.get $i))))
              (local.set $s20 (f32x4.madd (local.get $xv) (local.get $wa) (local.get $s20)))
              (local.set $s21 (f32x4.madd (local.get $xv) (local.get $wb) (local.get $s21)))
              (local.set $xv (v128.load (i32.add (local.get $x3) (local.get $i))))
              (local.set $s30 (f32x4.madd (local.get $xv) (local.get $wa) (local.get $s30)))
              (local.set $s31 (f32x4.madd (local.get $xv) (local.get $wb) (local.get $s31)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $iLoop)))
            (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s00)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s01)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s10)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s11)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s20)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s21)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s30)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s31)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (local.set $o (i32.add (local.get $o) (i32.const 2)))
            (br $oLoop)))
          ;; An odd last column in the block: one dot per input row of the tile.
          (if (i32.lt_u (local.get $o) (local.get $oe)) (then
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $CB))))
            (local.set $i (i32.const 0))
            (block $tDone (loop $tLoop
              (br_if $tDone (i32.ge_u (local.get $i) (i32.const 4)))
              (call $store
                (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (local.get $n) (local.get $i)) (local.get $OC)) (local.get $o)) (i32.const 2)))
                (call $dot (i32.add (local.get $x0) (i32.mul (local.get $i) (local.get $CB))) (local.get $w0) (local.get $C))
                (local.get $bias) (local.get $o) (local.get $mode))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $tLoop)))))
          (local.set $n (i32.add (local.get $n) (i32.const 4)))
          (br $nLoop)))
        ;; The input rows left over (all of them when decoding one token): 1 x 4 tiles.
        (block $rDone (loop $rLoop
          (br_if $rDone (i32.ge_u (local.get $n) (local.get $N)))
          (local.set $x0 (i32.add (local.get $inp) (i32.mul (local.get $n) (local.get $CB))))
          (local.set $o (local.get $ob))
          (block $qDone (loop $qLoop
            (br_if $qDone (i32.gt_u (i32.add (local.get $o) (i32.const 4)) (local.get $oe)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $CB))))
            (local.set $w1 (i32.add (local.get $w0) (local.get $CB)))
            (local.set $w2 (i32.add (local.get $w1) (local.get $CB)))
            (local.set $w3 (i32.add (local.get $w2) (local.get $CB)))
            (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
            (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (block $iDone2 (loop $iLoop2
              (br_if $iDone2 (i32.ge_u (local.get $i) (local.get $CB)))
              (local.set $xv (v128.load (i32.add (local.get $x0) (local.get $i))))
              (local.set $s00 (f32x4.madd (local.get $xv) (v128.load (i32.add (local.get $w0) (local.get $i))) (local.get $s00)))
              (local.set $s01 (f32x4.madd (local.get $xv) (v128.load (i32.add (local.get $w1) (local.get $i))) (local.get $s01)))
              (local.set $s10 (f32x4.madd (local.get $xv) (v128.load (i32.add (local.get $w2) (local.get $i))) (local.get $s10)))
              (local.set $s11 (f32x4.madd (local.get $xv) (v128.load (i32.add (local.get $w3) (local.get $i))) (local.get $s11)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $iLoop2)))
            (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s00)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s01)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 8)) (call $hsum (local.get $s10)) (local.get $bias) (i32.add (local.get $o) (i32.const 2)) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 12)) (call $hsum (local.get $s11)) (local.get $bias) (i32.add (local.get $o) (i32.const 3)) (local.get $mode))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $qLoop)))
          (block $sDone (loop $sLoop
            (br_if $sDone (i32.ge_u (local.get $o) (local.get $oe)))
            (call $store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
              (call $dot (local.get $x0) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $CB))) (local.get $C))
              (local.get $bias) (local.get $o) (local.get $mode))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $sLoop)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br $rLoop))))
      (else
        (block $gDone (loop $gLoop
          (br_if $gDone (i32.ge_u (local.get $n) (local.get $N)))
          (local.set $o (local.get $ob))
          (block $g2Done (loop $g2Loop
            (br_if $g2Done (i32.ge_u (local.get $o) (local.get $oe)))
            (call $store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
              (call $dot (i32.add (local.get $inp) (i32.mul (local.get $n) (local.get $CB))) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $CB))) (local.get $C))
              (local.get $bias) (local.get $o) (local.get $mode))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $g2Loop)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br $gLoop)))))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) . w^T + bias for few input rows (decoding), w
  ;; packed by packF32Forward (groups of 4 rows, 4 columns of each side by side: (OC/4, C/4, 4, 4)),
  ;; columns [a, b) (a a multiple of 4). One pass takes a group: each input load serves 4
  ;; rows, the weights are one stream read in order (4 separate rows left the prefetcher
  ;; behind: ~8.3 against ~9.5 GB/s on 1 thread here), and the 4 sums come out in one vector.
  ;; C % 4 == 0.
  (func (export "matmul_f32p")
    (param $out i32) (param $inp i32) (param $w i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $o i32) (local $n i32) (local $x i32) (local $e i32) (local $wp i32) (local $xv v128) (local $orow i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 2))))
        (local.set $e (i32.add (local.get $x) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $o) (local.get $C)) (i32.const 2))))
        (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0)) (local.set $s3 (v128.const i32x4 0 0 0 0))
        (block $iDone (loop $iLoop
          (br_if $iDone (i32.ge_u (local.get $x) (local.get $e)))
          (local.set $xv (v128.load (local.get $x)))
          (local.set $s0 (f32x4.madd (local.get $xv) (v128.load (local.get $wp)) (local.get $s0)))
          (local.set $s1 (f32x4.madd (local.get $xv) (v128.load offset=16 (local.get $wp)) (local.get $s1)))
          (local.set $s2 (f32x4.madd (local.get $xv) (v128.load offset=32 (local.get $wp)) (local.get $s2)))
          (local.set $s3 (f32x4.madd (local.get $xv) (v128.load offset=48 (local.get $wp)) (local.get $s3)))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
          (br $iLoop)))
        (local.set $s0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s0) (local.get $s1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s0) (local.get $s1))))
        (local.set $s2 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s2) (local.get $s3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s2) (local.get $s3))))
        (local.set $s0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s0) (local.get $s2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s0) (local.get $s2))))
        (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
        (call $store4 (local.get $orow) (local.get $s0) (local.get $bias) (local.get $o) (local.get $mode) (local.get $b))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $oLoop))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) . w^T + bias with w packed as for matmul_f32p,
  ;; columns [a, b) (a a multiple of 32), for many input rows (prefill): each block of 32
  ;; weight rows is copied back to row-major order into this thread's scratch (32 C floats at
  ;; scratch + tid 128 C) and multiplied by matmul_f32's 4 x 2 tiles. The copy is one pass
  ;; over the block, against N passes of the product. C % 4 == 0.
  (func (export "matmul_f32p_blocks")
    (param $out i32) (param $inp i32) (param $w i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $ob i32) (local $oe i32) (local $buf i32) (local $src i32) (local $o i32) (local $r i32) (local $k i32) (local $CB i32)
    (local.set $CB (i32.shl (local.get $C) (i32.const 2)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      ;; Packed chunks in order: for each group of 4 rows, for each 4 columns, the 4 rows' floats.
      (local.set $src (i32.add (local.get $w) (i32.mul (local.get $ob) (local.get $CB))))
      (local.set $o (local.get $ob))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $k (i32.const 0))
        (block $kDone (loop $kLoop
          (br_if $kDone (i32.ge_u (local.get $k) (local.get $CB)))
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
            ;; Rows past the end are padding (the last group of a width not a multiple of 4).
            (if (i32.lt_u (i32.add (local.get $o) (local.get $r)) (local.get $oe)) (then
              (v128.store
                (i32.add (local.get $buf) (i32.add (i32.mul (i32.sub (i32.add (local.get $o) (local.get $r)) (local.get $ob)) (local.get $CB)) (local.get $k)))
                (v128.load (local.get $src)))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $kLoop)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $gLoop)))
      (call $matmul_f32 (local.get $out) (local.get $inp)
        (i32.sub (local.get $buf) (i32.mul (local.get $ob) (local.get $CB)))
        (local.get $bias) (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; One f16 value (sign-extended to i32) as f32, as the f32x4.from_f16 macro (tools/build-wasm.mjs) does four.
  (func $f16 (param $h i32) (result f32)
    (f32.mul
      (f32.reinterpret_i32 (i32.and (i32.shl (local.get $h) (i32.const 13)) (i32.const 0x8fffe000)))
      (f32.const 0x1p112)))

  ;; One row of f16 weights (as u16 halves at w) dotted with n f32 inputs.
  (func $dotF16 (param $x i32) (param $w i32) (param $n i32) (result f32)
    (local $i i32) (local $e i32) (local $a v128) (local $s f32)
    (local.set $e (i32.and (local.get $n) (i32.const -4)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $a (f32x4.add (local.get $a) (f32x4.mul
        (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
        (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 1))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $s (call $hsum (local.get $a)))
    (block $done2 (loop $l2
      (br_if $done2 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (f32.add (local.get $s) (f32.mul
        (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
        (call $f16 (i32.load16_s (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 1))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2)))
    (local.get $s))

  ;; out (N, OC) (by mode, $store) = inp (N, C) . w (OC, C) f16 ^T + bias, columns [a, b): 1 input row x 2
  ;; weight rows per step (the input load is shared), blocks of 32 weight rows.
  (func (export "matmul_f16")
    (param $out i32) (param $inp i32) (param $w i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $ob i32) (local $oe i32) (local $n i32) (local $o i32) (local $i i32) (local $e i32)
    (local $x0 i32) (local $w0 i32) (local $w1 i32) (local $xv v128) (local $xw v128) (local $h v128) (local $s0 v128) (local $s1 v128) (local $orow i32)
    (local $mask v128) (local $pow v128)
    (local.set $mask (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
    (local.set $pow (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x0 (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 2))))
        (local.set $o (local.get $ob))
        (if (i32.eqz (i32.and (local.get $C) (i32.const 3))) (then
          (block $oDone (loop $oLoop
            (br_if $oDone (i32.gt_u (i32.add (local.get $o) (i32.const 2)) (local.get $oe)))
            (local.set $w0 (i32.add (local.get $w) (i32.shl (i32.mul (local.get $o) (local.get $C)) (i32.const 1))))
            (local.set $w1 (i32.add (local.get $w0) (i32.shl (local.get $C) (i32.const 1))))
            (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $i (i32.const 0))
            (local.set $e (i32.shl (local.get $C) (i32.const 1)))
            ;; 8 weights per row per step, converted inline (a call per vector costs more than the maths).
            (block $iDone (loop $iLoop
              (br_if $iDone (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $e)))
              (local.set $xv (v128.load (i32.add (local.get $x0) (i32.shl (local.get $i) (i32.const 1)))))
              (local.set $xw (v128.load offset=16 (i32.add (local.get $x0) (i32.shl (local.get $i) (i32.const 1)))))
              (local.set $h (v128.load (i32.add (local.get $w0) (local.get $i))))
              (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $xv) (f32x4.mul
                (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (local.get $mask)) (local.get $pow)))))
              (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $xw) (f32x4.mul
                (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (local.get $mask)) (local.get $pow)))))
              (local.set $h (v128.load (i32.add (local.get $w1) (local.get $i))))
              (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $xv) (f32x4.mul
                (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (local.get $mask)) (local.get $pow)))))
              (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $xw) (f32x4.mul
                (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (local.get $mask)) (local.get $pow)))))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $iLoop)))
            (if (i32.lt_u (local.get $i) (local.get $e)) (then
              (local.set $xv (v128.load (i32.add (local.get $x0) (i32.shl (local.get $i) (i32.const 1)))))
              (local.set $s0 (f32x4.madd (local.get $xv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $w0) (local.get $i)))) (local.get $s0)))
              (local.set $s1 (f32x4.madd (local.get $xv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $w1) (local.get $i)))) (local.get $s1)))))
            (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
            (call $store (local.get $orow) (call $hsum (local.get $s0)) (local.get $bias) (local.get $o) (local.get $mode))
            (call $store (i32.add (local.get $orow) (i32.const 4)) (call $hsum (local.get $s1)) (local.get $bias) (i32.add (local.get $o) (i32.const 1)) (local.get $mode))
            (local.set $o (i32.add (local.get $o) (i32.const 2)))
            (br $oLoop)))))
        (block $sDone (loop $sLoop
          (br_if $sDone (i32.ge_u (local.get $o) (local.get $oe)))
          (call $store
            (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
            (call $dotF16 (local.get $x0) (i32.add (local.get $w) (i32.shl (i32.mul (local.get $o) (local.get $C)) (i32.const 1))) (local.get $C))
            (local.get $bias) (local.get $o) (local.get $mode))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br $sLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; Rows [a, b) of x (N, C) f32 to Q8_0 blocks of 32 in the layout matmul_q8 reads
  ;; (q8InputLayout): q = nearest(x / d) in -127..127 with d = max|x| / 127 as
  ;; quantizeQ8Forward, stored as i16 with each 16 values' even-indexed ones first, then the
  ;; odd-indexed ones times 256; xs (N, C/32) holds d / 256. C % 32 == 0.
  (func (export "quantize_q8")
    (param $xq i32) (param $xs i32) (param $x i32) (param $N i32) (param $C i32) (param $a i32) (param $b i32)
    (local $blk i32) (local $nb i32) (local $i i32) (local $src i32) (local $m f32) (local $d f32) (local $id f32)
    (local.set $nb (i32.mul (local.get $b) (i32.shr_u (local.get $C) (i32.const 5))))
    (local.set $blk (i32.mul (local.get $a) (i32.shr_u (local.get $C) (i32.const 5))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $nb)))
      (local.set $src (i32.add (local.get $x) (i32.shl (local.get $blk) (i32.const 7))))
      (local.set $m (f32.const 0))
      (local.set $i (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $i) (i32.const 128)))
        (local.set $m (f32.max (local.get $m) (f32.abs (f32.load (i32.add (local.get $src) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1)))
      (local.set $d (f32.div (local.get $m) (f32.const 127)))
      (local.set $id (select (f32.div (f32.const 1) (local.get $d)) (f32.const 0) (f32.gt (local.get $d) (f32.const 0))))
      (f32.store (i32.add (local.get $xs) (i32.shl (local.get $blk) (i32.const 2))) (f32.mul (local.get $d) (f32.const 0.00390625)))
      (local.set $i (i32.const 0))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $i) (i32.const 32)))
        (i32.store16
          (i32.add (i32.add (local.get $xq) (i32.shl (local.get $blk) (i32.const 6)))
            (i32.add (i32.shl (i32.shr_u (local.get $i) (i32.const 4)) (i32.const 5))
              (i32.add (i32.shl (i32.and (local.get $i) (i32.const 1)) (i32.const 4)) (i32.shl (i32.shr_u (i32.and (local.get $i) (i32.const 15)) (i32.const 1)) (i32.const 1)))))
          (i32.shl (i32.trunc_sat_f32_s (f32.nearest (f32.mul (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))) (local.get $id))))
            (i32.shl (i32.and (local.get $i) (i32.const 1)) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l2)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l)))) 

  ;; out (N, OC) (by mode, $store) = Q8_0 product of quantized input rows (xq, xs) with Q8_0
  ;; weights packed by packQ8Forward (4 rows interleaved per block: w (OC/4, C/32, 4, 32)
  ;; int8, ws (OC/4, C/32, 4) f32) + bias, columns [a, b) (a a multiple of 4). One pass
  ;; takes a block of 4 rows: the input loads are shared, the 4 integer dots are summed
  ;; across lanes into one vector (row r in lane r), converted once and scaled by the 4 rows'
  ;; scales, one vector load; each weight byte is read once, in order.
  (func (export "matmul_q8")
    (param $out i32) (param $xq i32) (param $xs i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $n i32) (local $o i32) (local $e i32) (local $half i32)
    (local $x i32) (local $xsp i32) (local $wp i32) (local $sp i32) (local $orow i32)
    (local $xa v128) (local $xb v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $acc v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 1))))
        (local.set $xsp (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $C))))
        (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $o) (local.get $nb)) (i32.const 2))))
        (local.set $e (i32.add (local.get $xsp) (i32.shl (local.get $nb) (i32.const 2))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $xsp) (local.get $e)))
          (local.set $d0 (v128.const i32x4 0 0 0 0)) (local.set $d1 (v128.const i32x4 0 0 0 0))
          (local.set $d2 (v128.const i32x4 0 0 0 0)) (local.set $d3 (v128.const i32x4 0 0 0 0))
          ;; A block in two halves of 16 weights per row, as a loop: the 4 dots are then loop
          ;; values the compiler must finish per half, where one straight pass over 32 let it
          ;; hoist all 8 weight loads and spill (in-cache 768x768: 13.1 -> 15.7 GB/s).
          ;; 16 int8 weights read as 8 i16 lanes need no widening: shifted left 8 they are the
          ;; even weights times 256, shifted right 8 (signed) the odd ones, against the input's
          ;; even values and odd values times 256 (quantize_q8): each dot is 256 times the
          ;; block's, within i32 (|sum| < 2^28), undone by the input scale d / 256. Two shifts
          ;; where widening took three instructions: in-cache 17 -> 19 GB/s.
          (local.set $half (i32.add (local.get $wp) (i32.const 32)))
          (block $hDone (loop $hLoop
            (br_if $hDone (i32.ge_u (local.get $wp) (local.get $half)))
            (local.set $xa (v128.load (local.get $x)))
            (local.set $xb (v128.load offset=16 (local.get $x)))
            (local.set $w0 (v128.load (local.get $wp)))
            (local.set $w1 (v128.load offset=32 (local.get $wp)))
            (local.set $w2 (v128.load offset=64 (local.get $wp)))
            (local.set $w3 (v128.load offset=96 (local.get $wp)))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $w0) (i32.const 8)) (local.get $xa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w0) (i32.const 8)) (local.get $xb)))))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $w1) (i32.const 8)) (local.get $xa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w1) (i32.const 8)) (local.get $xb)))))
            (local.set $d2 (i32x4.add (local.get $d2) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $w2) (i32.const 8)) (local.get $xa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w2) (i32.const 8)) (local.get $xb)))))
            (local.set $d3 (i32x4.add (local.get $d3) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $w3) (i32.const 8)) (local.get $xa)) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $w3) (i32.const 8)) (local.get $xb)))))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
            (br $hLoop)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 96))) ;; past the other 3 rows' second halves
          ;; [r0 l0+l2, r1 l0+l2, r0 l1+l3, r1 l1+l3], the same for rows 2 and 3, then [r0, r1, r2, r3].
          (local.set $d0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
            (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
          (local.set $d2 (i32x4.add
            (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d2) (local.get $d3))
            (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d2) (local.get $d3))))
          (local.set $d0 (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $d0) (local.get $d2))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $d0) (local.get $d2))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $d0))
            (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xsp))))))
          (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
          (br $bLoop)))
        (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
        (call $store4 (local.get $orow) (local.get $acc) (local.get $bias) (local.get $o) (local.get $mode) (local.get $b))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $oLoop))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) f32 . Q8_0 w^T expanded to f32 + bias, columns
  ;; [a, b) (a a multiple of 32), for many input rows (prefill): each block of 32 weight rows
  ;; is expanded (q * scale, as dequantizeQ8) from the packed layout (matmul_q8) into this
  ;; thread's scratch, row-major (32 C floats at scratch + tid 128 C), and multiplied by the
  ;; f32 kernel, whose 4 x 2 tiles the integer products cannot afford (too few registers for
  ;; widened weights). C % 32 == 0.
  (func (export "matmul_q8_f32")
    (param $out i32) (param $inp i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $ob i32) (local $oe i32) (local $buf i32) (local $src i32) (local $sp i32) (local $dst i32)
    (local $o i32) (local $r i32) (local $blk i32) (local $nb i32)
    (local $sv v128) (local $wv v128) (local $h v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      ;; Packed tiles in order: for each group of 4 rows, for each block, the 4 rows' 32 bytes.
      (local.set $src (i32.add (local.get $w) (i32.mul (local.get $ob) (local.get $C))))
      (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $ob) (local.get $nb)) (i32.const 2))))
      (local.set $o (local.get $ob))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
            ;; Rows past the end are padding (the last group of a width not a multiple of 4).
            (if (i32.lt_u (i32.add (local.get $o) (local.get $r)) (local.get $oe)) (then
              (local.set $dst (i32.add (local.get $buf) (i32.shl
                (i32.add (i32.mul (i32.sub (i32.add (local.get $o) (local.get $r)) (local.get $ob)) (local.get $C)) (i32.shl (local.get $blk) (i32.const 5)))
                (i32.const 2))))
              (local.set $sv (v128.load32_splat (local.get $sp)))
              (local.set $wv (v128.load offset=0 (local.get $src)))
              (local.set $h (i16x8.extend_low_i8x16_s (local.get $wv)))
              (v128.store offset=0 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $sv)))
              (v128.store offset=16 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $sv)))
              (local.set $h (i16x8.extend_high_i8x16_s (local.get $wv)))
              (v128.store offset=32 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $sv)))
              (v128.store offset=48 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $sv)))
              (local.set $wv (v128.load offset=16 (local.get $src)))
              (local.set $h (i16x8.extend_low_i8x16_s (local.get $wv)))
              (v128.store offset=64 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $sv)))
              (v128.store offset=80 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $sv)))
              (local.set $h (i16x8.extend_high_i8x16_s (local.get $wv)))
              (v128.store offset=96 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $sv)))
              (v128.store offset=112 (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $sv)))))
            (local.set $src (i32.add (local.get $src) (i32.const 32)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $gLoop)))
      ;; Row o of the block is at buf + (o - ob) C floats: the f32 kernel gets a base that
      ;; (wrapping like every i32 address sum) puts row ob there.
      (call $matmul_f32 (local.get $out) (local.get $inp)
        (i32.sub (local.get $buf) (i32.shl (i32.mul (local.get $ob) (local.get $C)) (i32.const 2)))
        (local.get $bias) (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; @relaxed
  ;; ---- Q8_0 prefill: integer tiles ----
  ;; The product of many input rows with packed Q8_0 weights (packQ8Forward) as integer dots in
  ;; register tiles of 4 input rows x 4 weight rows, as ggml's repacked int8 GEMMs do: a band of
  ;; 32 weight rows is re-laid once into this thread's scratch so that one 16-byte load holds
  ;; the same few columns of 4 rows, and one 32-bit splat of an input row multiplies them all
  ;; (lane r of the dot = weight row r); 4 input rows share each weight load. A block's integer
  ;; dots meet floats once (times the 4 rows' scales and the input row's), so no horizontal sums.
  ;; The missing rows of the last tile are computed from the layout's padding and row N - 1's
  ;; scales, and not stored.
  (func $tileRow (param $n i32) (param $t i32) (param $N i32) (result i32)
    (select (i32.add (local.get $n) (local.get $t)) (i32.sub (local.get $N) (i32.const 1))
      (i32.lt_u (i32.add (local.get $n) (local.get $t)) (local.get $N))))

  ;; Four vectors a, b, c, d as a 4 x 4 matrix of 32-bit lanes, stored transposed at $dst:
  ;; [a0 b0 c0 d0] [a1 b1 c1 d1] [a2 b2 c2 d2] [a3 b3 c3 d3].
  (func $transpose4 (param $dst i32) (param $a v128) (param $b v128) (param $c v128) (param $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
    (v128.store offset=0 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; The dot is i16x8.relaxed_dot_i8x16_i7x16_s (16 products, in pairs) summed into i32 by
  ;; i32x4.dot_i16x8_s with ones: on Node 20's V8 (x64) three instructions, where
  ;; i32x4.relaxed_dot_i8x16_i7x16_add_s took five (it rebuilds its constant each time; 256 x
  ;; 896 -> 4864 on 1 thread: 38 against 49 ms). The portable build keeps matmul_q8_f32 for
  ;; prefill: the same tiles over i32x4.dot_i16x8_s (8 products, the band twice as large)
  ;; measured slower than its f32 tiles (82 against 65 ms). The relaxed dot's second operand must
  ;; lie in [0, 127] (an engine may read it as signed or unsigned; pairs of products then fit i16
  ;; without saturating), so the input side goes in 7 bits offset by 64 (quantize_q8_7: q in
  ;; [-63, 63] stored as q + 64) and each block's dot starts from -64 (sum of the row's weights)
  ;; to cancel the offset: the integer dot is exact, the input's rounding step twice
  ;; quantize_q8's. A band block (192 bytes): 8 steps of 4 columns x 4 rows (+0), that start as
  ;; i32x4 (+128), the 4 rows' scales (+144) and mins (+160) as f32x4; Q6_K, whose 16-column
  ;; halves have their own scales, keeps the first half's start and scales there and the second
  ;; half's scales at +160, its start at +176.

  ;; A band block's start, at $dst + $at: -64 times each row's sum of the weights in steps
  ;; [from / 16, to / 16) at $dst.
  (func $bandStart (param $dst i32) (param $from i32) (param $to i32) (param $at i32)
    (local $sum v128) (local $i i32)
    (local.set $i (local.get $from))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
      (local.set $sum (i32x4.add (local.get $sum) (i32x4.dot_i16x8_s
        (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load (i32.add (local.get $dst) (local.get $i))) (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
        (v128.const i16x8 1 1 1 1 1 1 1 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
    (v128.store (i32.add (local.get $dst) (local.get $at)) (i32x4.mul (local.get $sum) (v128.const i32x4 -64 -64 -64 -64))))

  ;; A group of 4 packed Q8_0 rows at $src (nb blocks of 4 x 32 int8, scales at $sp) to the band
  ;; at $dst (no mins).
  (func $bandI8 (param $dst i32) (param $src i32) (param $sp i32) (param $nb i32)
    (local $blk i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $nb)))
      (call $transpose4 (local.get $dst)
        (v128.load offset=0 (local.get $src)) (v128.load offset=32 (local.get $src))
        (v128.load offset=64 (local.get $src)) (v128.load offset=96 (local.get $src)))
      (call $transpose4 (i32.add (local.get $dst) (i32.const 64))
        (v128.load offset=16 (local.get $src)) (v128.load offset=48 (local.get $src))
        (v128.load offset=80 (local.get $src)) (v128.load offset=112 (local.get $src)))
      (call $bandStart (local.get $dst) (i32.const 0) (i32.const 128) (i32.const 128))
      (v128.store offset=144 (local.get $dst) (v128.load (local.get $sp)))
      (local.set $src (i32.add (local.get $src) (i32.const 128)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 192)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  ;; Rows [o, o + rows) (rows <= 4; the others zero) of Q4_K weights (qs at $w, meta at $m, as
  ;; packQ4KForward) to the band at $dst: a sub-block's 16 bytes hold codes i and 16 + i in byte
  ;; i's nibbles, so the low nibbles are the block's columns 0..15 and the high ones 16..31.
  (func $bandQ4K (param $dst i32) (param $w i32) (param $m i32) (param $o i32) (param $rows i32) (param $C i32)
    (local $blk i32) (local $nb i32) (local $r i32) (local $mp i32) (local $f i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $nb)))
      (local.set $v0 (call $q4kCodes (local.get $w) (local.get $o) (i32.const 0) (local.get $rows) (local.get $C) (local.get $blk)))
      (local.set $v1 (call $q4kCodes (local.get $w) (local.get $o) (i32.const 1) (local.get $rows) (local.get $C) (local.get $blk)))
      (local.set $v2 (call $q4kCodes (local.get $w) (local.get $o) (i32.const 2) (local.get $rows) (local.get $C) (local.get $blk)))
      (local.set $v3 (call $q4kCodes (local.get $w) (local.get $o) (i32.const 3) (local.get $rows) (local.get $C) (local.get $blk)))
      (call $transpose4 (local.get $dst)
        (v128.and (local.get $v0) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
        (v128.and (local.get $v1) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
        (v128.and (local.get $v2) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
        (v128.and (local.get $v3) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
      (call $transpose4 (i32.add (local.get $dst) (i32.const 64))
        (i8x16.shr_u (local.get $v0) (i32.const 4)) (i8x16.shr_u (local.get $v1) (i32.const 4))
        (i8x16.shr_u (local.get $v2) (i32.const 4)) (i8x16.shr_u (local.get $v3) (i32.const 4)))
      (call $bandStart (local.get $dst) (i32.const 0) (i32.const 128) (i32.const 128))
      (local.set $r (i32.const 0))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
        (local.set $f (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
        (if (i32.lt_u (local.get $r) (local.get $rows))
          (then
            ;; meta of row o + r, super-block blk / 8: d, dmin, sc[8], m[8]
            (local.set $mp (i32.add (local.get $m) (i32.mul
              (i32.add (i32.mul (i32.add (local.get $o) (local.get $r)) (i32.shr_u (local.get $C) (i32.const 8))) (i32.shr_u (local.get $blk) (i32.const 3)))
              (i32.const 24))))
            (f32.store offset=144 (local.get $f) (f32.mul (f32.load (local.get $mp))
              (f32.convert_i32_u (i32.load8_u offset=8 (i32.add (local.get $mp) (i32.and (local.get $blk) (i32.const 7)))))))
            (f32.store offset=160 (local.get $f) (f32.neg (f32.mul (f32.load offset=4 (local.get $mp))
              (f32.convert_i32_u (i32.load8_u offset=16 (i32.add (local.get $mp) (i32.and (local.get $blk) (i32.const 7)))))))))
          (else
            (f32.store offset=144 (local.get $f) (f32.const 0))
            (f32.store offset=160 (local.get $f) (f32.const 0))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rLoop)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 192)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  ;; The 16 code bytes of block blk (sub-block blk % 8 of super-block blk / 8) of Q4_K row o + r,
  ;; or zeros past the rows that exist.
  (func $q4kCodes (param $w i32) (param $o i32) (param $r i32) (param $rows i32) (param $C i32) (param $blk i32) (result v128)
    (if (result v128) (i32.lt_u (local.get $r) (local.get $rows))
      (then (v128.load (i32.add (local.get $w)
        (i32.add (i32.mul (i32.add (local.get $o) (local.get $r)) (i32.shr_u (local.get $C) (i32.const 1))) (i32.shl (local.get $blk) (i32.const 4))))))
      (else (v128.const i32x4 0 0 0 0))))

  ;; Byte offset in quantize_q8_7's layout of column 32 (blk % (C/32)) + k of row blk / (C/32), k % 4 == 0:
  ;; rows in groups of 4, each group's columns in steps of 4 with the 4 rows' 4 bytes side by side
  ;; ((N/4, C/4, 4, 4), so one pointer and fixed offsets reach a tile's 4 rows).
  (func $tiledAt (param $blk i32) (param $C i32) (param $k i32) (result i32)
    (local $n i32) (local $col i32)
    (local.set $n (i32.div_u (local.get $blk) (i32.shr_u (local.get $C) (i32.const 5))))
    (local.set $col (i32.add (i32.shl (i32.sub (local.get $blk) (i32.mul (local.get $n) (i32.shr_u (local.get $C) (i32.const 5)))) (i32.const 5)) (local.get $k)))
    (i32.add
      (i32.add (i32.mul (i32.shr_u (local.get $n) (i32.const 2)) (i32.shl (local.get $C) (i32.const 2))) (i32.shl (local.get $col) (i32.const 2)))
      (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))

  ;; Rows [a, b) of x (N, C) f32 to 7-bit Q8_0 blocks of 32 for the int8 tiles: d = max|x| / 63
  ;; into xs (N, C/32), q = nearest(x / d) in -63..63 stored as the byte q + 64 in xq (N, C) laid
  ;; out as $tiledAt says (a tile's 4 input rows then cost one pointer: 1 thread, Q4_K 128 x 1536
  ;; -> 8960: 46 -> 42 ms against a pointer per row; xq must hold ceil(N / 4) 4 C bytes),
  ;; as quantizeQ8Forward(.., 63); with xm, d times the block's sum of q into xm (N, C/32).
  ;; C % 32 == 0.
  (func (export "quantize_q8_7")
    (param $xq i32) (param $xs i32) (param $xm i32) (param $x i32) (param $N i32) (param $C i32) (param $a i32) (param $b i32)
    (local $blk i32) (local $end i32) (local $src i32) (local $dst i32) (local $i i32) (local $m v128) (local $d f32) (local $id v128) (local $h v128) (local $sum v128)
    (local.set $blk (i32.mul (local.get $a) (i32.shr_u (local.get $C) (i32.const 5))))
    (local.set $end (i32.mul (local.get $b) (i32.shr_u (local.get $C) (i32.const 5))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $end)))
      (local.set $src (i32.add (local.get $x) (i32.shl (local.get $blk) (i32.const 7))))
      (local.set $m (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $mDone (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $i) (i32.const 128)))
        (local.set $m (f32x4.max (local.get $m) (f32x4.abs (v128.load (i32.add (local.get $src) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $mLoop)))
      (local.set $d (f32.div
        (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
          (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m))))
        (f32.const 63)))
      (f32.store (i32.add (local.get $xs) (i32.shl (local.get $blk) (i32.const 2))) (local.get $d))
      (local.set $id (f32x4.splat (select (f32.div (f32.const 1) (local.get $d)) (f32.const 0) (f32.gt (local.get $d) (f32.const 0)))))
      (local.set $i (i32.const 0))
      (block $qDone (loop $qLoop
        (br_if $qDone (i32.ge_u (local.get $i) (i32.const 128)))
        (local.set $h (i8x16.narrow_i16x8_s
          (i16x8.narrow_i32x4_s (call $q7 (v128.load offset=0 (i32.add (local.get $src) (local.get $i))) (local.get $id))
            (call $q7 (v128.load offset=16 (i32.add (local.get $src) (local.get $i))) (local.get $id)))
          (i16x8.narrow_i32x4_s (call $q7 (v128.load offset=32 (i32.add (local.get $src) (local.get $i))) (local.get $id))
            (call $q7 (v128.load offset=48 (i32.add (local.get $src) (local.get $i))) (local.get $id)))))
        (local.set $dst (i32.add (local.get $xq) (call $tiledAt (local.get $blk) (local.get $C) (i32.shr_u (local.get $i) (i32.const 2)))))
        (v128.store32_lane offset=0 0 (local.get $dst) (local.get $h))
        (v128.store32_lane offset=16 1 (local.get $dst) (local.get $h))
        (v128.store32_lane offset=32 2 (local.get $dst) (local.get $h))
        (v128.store32_lane offset=48 3 (local.get $dst) (local.get $h))
        (local.set $sum (i32x4.add (local.get $sum) (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $h)))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $qLoop)))
      (if (local.get $xm) (then
        (f32.store (i32.add (local.get $xm) (i32.shl (local.get $blk) (i32.const 2))) (f32.mul (local.get $d)
          (f32.convert_i32_s (i32.sub
            (i32.add (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
              (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum))))
            (i32.const 2048)))))))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  (func $q7 (param $v v128) (param $id v128) (result v128)
    (i32x4.add (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v) (local.get $id)))) (v128.const i32x4 64 64 64 64)))


  ;; out (N, OC) (by mode, $store) = quantize_q8_7 input (xq, xs) . packed Q8_0 w^T (ws) + bias,
  ;; columns [a, b) (a a multiple of 32), for many input rows: bands of 32 rows through $bandI8
  ;; into scratch (36 C bytes at scratch + tid 128 C), then the tiles. C % 32 == 0.
  ;; Reference: matmulQ8Forward on quantizeQ8Forward(.., 63)'s q.
  ;; The tiles over the band at $buf (groups of 4 weight rows [ob, oe), nb blocks of 192 bytes
  ;; each: 8 steps of 4 columns x 4 rows of int8 weights, the dot's start as i32x4, the rows'
  ;; scales, the rows' mins), for all N rows of the 7-bit input (xq, xs; with xm, its block sums
  ;; times the scale, which the mins multiply): out (N, [ob, oe)) by mode. $kind: 0 Q8_0 (int8
  ;; weights), 1 Q4_K (codes 0..15, with mins), 2 Q6_K (codes -32..31, two scales a block).
  (func $tilesI8
    (param $out i32) (param $xq i32) (param $xs i32) (param $xm i32) (param $buf i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $ob i32) (param $oe i32) (param $kind i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $gp i32) (local $bp i32) (local $wp i32) (local $xp i32) (local $pe i32) (local $pass i32) (local $xo i32) (local $so i32) (local $blk i32) (local $orow i32)
    (local $x0 i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $m0 i32) (local $m1 i32) (local $m2 i32) (local $m3 i32)
    (local $wv v128) (local $sv v128) (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128) (local $ones v128)
    (local.set $ones (v128.const i16x8 1 1 1 1 1 1 1 1))
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    ;; Tiles of 4 input rows x 4 weight rows; the last tile's missing input rows are the layout's
    ;; padding with row N - 1's scales (computed, not stored), so one code path takes every N.
    (local.set $n (i32.const 0))
    (block $nDone (loop $nLoop
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $o (local.get $ob))
      (local.set $gp (local.get $buf))
      (block $oDone (loop $oLoop
        (br_if $oDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $x0 (i32.add (local.get $xq) (i32.mul (local.get $n) (local.get $C))))
        (local.set $s0 (i32.add (local.get $xs) (i32.shl (i32.mul (call $tileRow (local.get $n) (i32.const 0) (local.get $N)) (local.get $nb)) (i32.const 2))))
        (local.set $m0 (i32.add (local.get $xm) (i32.sub (local.get $s0) (local.get $xs))))
        (local.set $s1 (i32.add (local.get $xs) (i32.shl (i32.mul (call $tileRow (local.get $n) (i32.const 1) (local.get $N)) (local.get $nb)) (i32.const 2))))
        (local.set $m1 (i32.add (local.get $xm) (i32.sub (local.get $s1) (local.get $xs))))
        (local.set $s2 (i32.add (local.get $xs) (i32.shl (i32.mul (call $tileRow (local.get $n) (i32.const 2) (local.get $N)) (local.get $nb)) (i32.const 2))))
        (local.set $m2 (i32.add (local.get $xm) (i32.sub (local.get $s2) (local.get $xs))))
        (local.set $s3 (i32.add (local.get $xs) (i32.shl (i32.mul (call $tileRow (local.get $n) (i32.const 3) (local.get $N)) (local.get $nb)) (i32.const 2))))
        (local.set $m3 (i32.add (local.get $xm) (i32.sub (local.get $s3) (local.get $xs))))
        (local.set $bp (local.get $gp))
        (local.set $f0 (v128.const i32x4 0 0 0 0)) (local.set $f1 (local.get $f0)) (local.set $f2 (local.get $f0)) (local.set $f3 (local.get $f0))
        (local.set $blk (i32.const 0))
        (local.set $xo (i32.const 0))
        (local.set $so (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          ;; The 8 steps as a loop: written out straight, TurboFan hoisted all 40 loads of a block
          ;; and spilled them (1 thread, 256 x 896 -> 4864: 39 ms; looped: 28 ms). Q4_K's codes
          ;; (0..15) and Q6_K's (-32..31) take pair sums (|.| <= 2 x 15 x 127, 2 x 32 x 127) that
          ;; add up in i16 over a pass (8 steps <= 30480; Q6_K's passes are its 16-column halves,
          ;; 4 steps <= 32512) and widen once a pass: a third fewer instructions a step.
          (local.set $wp (local.get $bp))
          (local.set $xp (i32.add (local.get $x0) (local.get $xo)))
          (if (i32.eqz (local.get $kind))
            (then
              (local.set $d0 (v128.load offset=128 (local.get $bp)))
              (local.set $d1 (local.get $d0)) (local.set $d2 (local.get $d0)) (local.set $d3 (local.get $d0))
              (loop $stepsW
                (local.set $wv (v128.load offset=0 (local.get $wp)))
                (local.set $d0 (i32x4.add (local.get $d0) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=0 (local.get $xp))) (local.get $ones))))
                (local.set $d1 (i32x4.add (local.get $d1) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=4 (local.get $xp))) (local.get $ones))))
                (local.set $d2 (i32x4.add (local.get $d2) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=8 (local.get $xp))) (local.get $ones))))
                (local.set $d3 (i32x4.add (local.get $d3) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=12 (local.get $xp))) (local.get $ones))))
                (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
                (br_if $stepsW (i32.lt_u (local.get $wp) (i32.add (local.get $bp) (i32.const 128)))))
              (local.set $sv (v128.load offset=144 (local.get $bp)))
              (local.set $f0 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d0)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s0) (local.get $so)))) (local.get $f0)))
              (local.set $f1 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d1)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s1) (local.get $so)))) (local.get $f1)))
              (local.set $f2 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d2)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s2) (local.get $so)))) (local.get $f2)))
              (local.set $f3 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d3)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s3) (local.get $so)))) (local.get $f3))))
            (else
              (local.set $pass (i32.const 0))
              (loop $passes
                (local.set $d0 (v128.const i32x4 0 0 0 0)) (local.set $d1 (local.get $d0)) (local.set $d2 (local.get $d0)) (local.set $d3 (local.get $d0))
                (local.set $pe (i32.add (local.get $wp) (select (i32.const 64) (i32.const 128) (i32.eq (local.get $kind) (i32.const 2)))))
                (loop $stepsS
                  (local.set $wv (v128.load offset=0 (local.get $wp)))
                  (local.set $d0 (i16x8.add (local.get $d0) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=0 (local.get $xp)))))
                  (local.set $d1 (i16x8.add (local.get $d1) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=4 (local.get $xp)))))
                  (local.set $d2 (i16x8.add (local.get $d2) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=8 (local.get $xp)))))
                  (local.set $d3 (i16x8.add (local.get $d3) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $wv) (v128.load32_splat offset=12 (local.get $xp)))))
                  (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
                  (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
                  (br_if $stepsS (i32.lt_u (local.get $wp) (local.get $pe))))
                ;; The pass's start (+128, Q6_K's second +176) and scales (+144, Q6_K's second +160).
                (local.set $wv (v128.load offset=128 (i32.add (local.get $bp) (i32.mul (local.get $pass) (i32.const 48)))))
                (local.set $d0 (i32x4.add (local.get $wv) (i32x4.dot_i16x8_s (local.get $d0) (local.get $ones))))
                (local.set $d1 (i32x4.add (local.get $wv) (i32x4.dot_i16x8_s (local.get $d1) (local.get $ones))))
                (local.set $d2 (i32x4.add (local.get $wv) (i32x4.dot_i16x8_s (local.get $d2) (local.get $ones))))
                (local.set $d3 (i32x4.add (local.get $wv) (i32x4.dot_i16x8_s (local.get $d3) (local.get $ones))))
                (local.set $sv (v128.load offset=144 (i32.add (local.get $bp) (i32.shl (local.get $pass) (i32.const 4)))))
                (local.set $f0 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d0)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s0) (local.get $so)))) (local.get $f0)))
                (local.set $f1 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d1)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s1) (local.get $so)))) (local.get $f1)))
                (local.set $f2 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d2)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s2) (local.get $so)))) (local.get $f2)))
                (local.set $f3 (f32x4.madd (f32x4.convert_i32x4_s (local.get $d3)) (f32x4.mul (local.get $sv) (v128.load32_splat (i32.add (local.get $s3) (local.get $so)))) (local.get $f3)))
                (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
                (br_if $passes (i32.lt_u (local.get $wp) (i32.add (local.get $bp) (i32.const 128)))))
              (if (i32.eq (local.get $kind) (i32.const 1)) (then
                (local.set $sv (v128.load offset=160 (local.get $bp)))
                (local.set $f0 (f32x4.madd (local.get $sv) (v128.load32_splat (i32.add (local.get $m0) (local.get $so))) (local.get $f0)))
                (local.set $f1 (f32x4.madd (local.get $sv) (v128.load32_splat (i32.add (local.get $m1) (local.get $so))) (local.get $f1)))
                (local.set $f2 (f32x4.madd (local.get $sv) (v128.load32_splat (i32.add (local.get $m2) (local.get $so))) (local.get $f2)))
                (local.set $f3 (f32x4.madd (local.get $sv) (v128.load32_splat (i32.add (local.get $m3) (local.get $so))) (local.get $f3)))))))
          (local.set $bp (i32.add (local.get $bp) (i32.const 192)))
          (local.set $xo (i32.add (local.get $xo) (i32.const 128)))
          (local.set $so (i32.add (local.get $so) (i32.const 4)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (local.set $orow (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2))))
        (call $store4 (local.get $orow) (local.get $f0) (local.get $bias) (local.get $o) (local.get $mode) (local.get $oe))
        (if (i32.lt_u (i32.add (local.get $n) (i32.const 1)) (local.get $N)) (then
          (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
          (call $store4 (local.get $orow) (local.get $f1) (local.get $bias) (local.get $o) (local.get $mode) (local.get $oe))))
        (if (i32.lt_u (i32.add (local.get $n) (i32.const 2)) (local.get $N)) (then
          (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
          (call $store4 (local.get $orow) (local.get $f2) (local.get $bias) (local.get $o) (local.get $mode) (local.get $oe))))
        (if (i32.lt_u (i32.add (local.get $n) (i32.const 3)) (local.get $N)) (then
          (local.set $orow (i32.add (local.get $orow) (i32.shl (local.get $OC) (i32.const 2))))
          (call $store4 (local.get $orow) (local.get $f3) (local.get $bias) (local.get $o) (local.get $mode) (local.get $oe))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $gp (i32.add (local.get $gp) (i32.mul (local.get $nb) (i32.const 192))))
        (br $oLoop)))
      (local.set $n (i32.add (local.get $n) (i32.const 4)))
      (br $nLoop))))

  ;; out (N, OC) (by mode, $store) = quantize_q8_7 input (xq, xs) . packed Q8_0 w^T (ws) + bias,
  ;; columns [a, b) (a a multiple of 32), for many input rows: bands of 32 rows through $bandI8
  ;; into scratch (44 C bytes at scratch + tid 128 C), then the tiles. C % 32 == 0.
  ;; Reference: matmulQ8Forward on quantizeQ8Forward(.., 63)'s q.
  (func (export "matmul_q8_i8tiles")
    (param $out i32) (param $xq i32) (param $xs i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $nb i32) (local $buf i32) (local $ob i32) (local $oe i32) (local $o i32) (local $gp i32)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $o (local.get $ob))
      (local.set $gp (local.get $buf))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (call $bandI8 (local.get $gp) (i32.add (local.get $w) (i32.mul (local.get $o) (local.get $C)))
          (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $o) (local.get $nb)) (i32.const 2))) (local.get $nb))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $gp (i32.add (local.get $gp) (i32.mul (local.get $nb) (i32.const 192))))
        (br $gLoop)))
      (call $tilesI8 (local.get $out) (local.get $xq) (local.get $xs) (i32.const 0) (local.get $buf) (local.get $bias)
        (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe) (i32.const 0))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; As matmul_q8_i8tiles for Q4_K weights packed by packQ4KForward (qs (OC, C/256, 8, 16), meta
  ;; (OC, C/256, 24)): a sub-block of 32 codes 0..15 is a block of the band, its scale d sc and
  ;; min -dmin m (exact products, as dequantizeQ4_K) beside it; the input's block sums (xm,
  ;; quantize_q8_7) carry the mins. C % 256 == 0. Reference: the dequantized weights times the
  ;; dequantized 7-bit input.
  (func (export "matmul_q4k_i8tiles")
    (param $out i32) (param $xq i32) (param $xs i32) (param $xm i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $nb i32) (local $buf i32) (local $ob i32) (local $oe i32) (local $o i32) (local $gp i32)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $o (local.get $ob))
      (local.set $gp (local.get $buf))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (call $bandQ4K (local.get $gp) (local.get $w) (local.get $ws) (local.get $o)
          (select (i32.sub (local.get $OC) (local.get $o)) (i32.const 4) (i32.lt_u (i32.sub (local.get $OC) (local.get $o)) (i32.const 4)))
          (local.get $C))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $gp (i32.add (local.get $gp) (i32.mul (local.get $nb) (i32.const 192))))
        (br $gLoop)))
      (call $tilesI8 (local.get $out) (local.get $xq) (local.get $xs) (local.get $xm) (local.get $buf) (local.get $bias)
        (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe) (i32.const 1))
      (local.set $ob (local.get $oe))
      (br $obLoop))))
  ;; Rows [o, o + rows) (rows <= 4; the others zero) of Q6_K weights (ql | qh at $w, meta at $m, as
  ;; packQ6KForward) to the band at $dst: block blk is quarter k = blk % 4 of half h = (blk / 4) % 2
  ;; of super-block blk / 8, codes q - 32 (as $expandQ6K builds them), its 16-column halves
  ;; scaled by d sc of groups 8h + 2k and 8h + 2k + 1 (at swap02 of those).
  (func $bandQ6K (param $dst i32) (param $w i32) (param $m i32) (param $o i32) (param $rows i32) (param $C i32)
    (local $blk i32) (local $nb i32) (local $r i32) (local $base i32) (local $mp i32) (local $g i32) (local $f i32)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $nb)))
      (call $transpose4 (local.get $dst)
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 0) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 0))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 1) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 0))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 2) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 0))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 3) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 0)))
      (call $transpose4 (i32.add (local.get $dst) (i32.const 64))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 0) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 16))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 1) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 16))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 2) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 16))
        (call $q6kCodes (local.get $w) (local.get $o) (i32.const 3) (local.get $rows) (local.get $C) (local.get $blk) (i32.const 16)))
      (call $bandStart (local.get $dst) (i32.const 0) (i32.const 64) (i32.const 128))
      (call $bandStart (local.get $dst) (i32.const 64) (i32.const 128) (i32.const 176))
      ;; group of the first half: 8h + 2k = 2 (blk % 8)
      (local.set $g (i32.shl (i32.and (local.get $blk) (i32.const 7)) (i32.const 1)))
      (local.set $r (i32.const 0))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
        (local.set $f (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
        (if (i32.lt_u (local.get $r) (local.get $rows))
          (then
            (local.set $mp (i32.add (local.get $m) (i32.mul
              (i32.add (i32.mul (i32.add (local.get $o) (local.get $r)) (i32.shr_u (local.get $C) (i32.const 8))) (i32.shr_u (local.get $blk) (i32.const 3)))
              (i32.const 20))))
            (f32.store offset=144 (local.get $f) (f32.mul (f32.load (local.get $mp))
              (f32.convert_i32_s (i32.load8_s offset=4 (i32.add (local.get $mp) (call $swap02 (local.get $g)))))))
            (f32.store offset=160 (local.get $f) (f32.mul (f32.load (local.get $mp))
              (f32.convert_i32_s (i32.load8_s offset=4 (i32.add (local.get $mp) (call $swap02 (i32.add (local.get $g) (i32.const 1)))))))))
          (else
            (f32.store offset=144 (local.get $f) (f32.const 0))
            (f32.store offset=160 (local.get $f) (f32.const 0))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rLoop)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 192)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  ;; Codes q - 32 of columns [l, l + 16) of block blk of Q6_K row o + r (zeros past the rows
  ;; that exist): quarter k of half h takes the low or high nibbles of ql[64h + l..] or
  ;; ql[64h + 32 + l..] and 2 bits of qh[32h + l..], as $expandQ6K.
  (func $q6kCodes (param $w i32) (param $o i32) (param $r i32) (param $rows i32) (param $C i32) (param $blk i32) (param $l i32) (result v128)
    (local $p i32) (local $h i32) (local $k i32) (local $ql v128) (local $qh v128) (local $q v128)
    (if (i32.ge_u (local.get $r) (local.get $rows)) (then (return (v128.const i32x4 0 0 0 0))))
    (local.set $h (i32.and (i32.shr_u (local.get $blk) (i32.const 2)) (i32.const 1)))
    (local.set $k (i32.and (local.get $blk) (i32.const 3)))
    ;; the row's super-block blk / 8 (192 bytes each)
    (local.set $p (i32.add (local.get $w) (i32.mul
      (i32.add (i32.mul (i32.add (local.get $o) (local.get $r)) (i32.shr_u (local.get $C) (i32.const 8))) (i32.shr_u (local.get $blk) (i32.const 3)))
      (i32.const 192))))
    (local.set $ql (v128.load (i32.add (i32.add (local.get $p) (i32.shl (local.get $h) (i32.const 6)))
      (i32.add (local.get $l) (i32.shl (i32.and (local.get $k) (i32.const 1)) (i32.const 5))))))
    (local.set $qh (v128.load offset=128 (i32.add (i32.add (local.get $p) (i32.shl (local.get $h) (i32.const 5))) (local.get $l))))
    ;; low nibbles for k = 0, 1, high for 2, 3; qh bits 2k, 2k + 1 to bits 4, 5
    (local.set $q (select
      (v128.and (local.get $ql) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
      (i8x16.shr_u (local.get $ql) (i32.const 4))
      (i32.lt_u (local.get $k) (i32.const 2))))
    (local.set $qh (v128.and (i8x16.shl (i8x16.shr_u (local.get $qh) (i32.shl (local.get $k) (i32.const 1))) (i32.const 4))
      (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48)))
    (i8x16.sub (v128.or (local.get $q) (local.get $qh)) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32)))

  ;; As matmul_q8_i8tiles for Q6_K weights packed by packQ6KForward (qs (OC, C/256, 192), meta
  ;; (OC, C/256, 20)) through $bandQ6K. C % 256 == 0. Reference: the dequantized weights times the
  ;; dequantized 7-bit input.
  (func (export "matmul_q6k_i8tiles")
    (param $out i32) (param $xq i32) (param $xs i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $nb i32) (local $buf i32) (local $ob i32) (local $oe i32) (local $o i32) (local $gp i32)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $o (local.get $ob))
      (local.set $gp (local.get $buf))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (call $bandQ6K (local.get $gp) (local.get $w) (local.get $ws) (local.get $o)
          (select (i32.sub (local.get $OC) (local.get $o)) (i32.const 4) (i32.lt_u (i32.sub (local.get $OC) (local.get $o)) (i32.const 4)))
          (local.get $C))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $gp (i32.add (local.get $gp) (i32.mul (local.get $nb) (i32.const 192))))
        (br $gLoop)))
      (call $tilesI8 (local.get $out) (local.get $xq) (local.get $xs) (i32.const 0) (local.get $buf) (local.get $bias)
        (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe) (i32.const 2))
      (local.set $ob (local.get $oe))
      (br $obLoop))))
  ;; @end

  ;; ---- K-quants (Q4_K, Q6_K) ----
  ;; Weights stay in ggml's super-blocks of 256 (engine/formats/kquants.ts); packQ4KForward /
  ;; packQ6KForward (engine/kernels/quantK.ts) split each row into the quant bytes (Q4_K qs:
  ;; 128 bytes per super-block, repacked one sub-block per 16 bytes; Q6_K ql + qh: the file's
  ;; 192 bytes) and a small stream of factors (Q4_K: d f32, dmin f32, sc[8] u8, m[8] u8 = 24
  ;; bytes; Q6_K: d f32 and the 16 int8 scales in kernel order = 20 bytes). References: matmulQ4KForward,
  ;; matmulQ6KForward in quantK.ts (same integer sums, same float32 steps).
  ;;
  ;; The input row is quantized once per product as ggml's Q8_K (quantize_q8k): 8-bit q with
  ;; one f32 scale per 256 inputs, so a super-block's sub-block dots combine in integers (times
  ;; their scale codes) and meet floats once. A 16-byte load of 4-bit codes is 8 i16 lanes of 4
  ;; nibbles; four single ops give the weights as i16 at scales 1, 16, 256, 1 (v & 0x000F,
  ;; v & 0x00F0, v & 0x0F00, v >>u 12), and the input is laid out at scales 256, 16, 1, 256
  ;; against them (q8kInputLayout), so every i32x4.dot_i16x8_s product is 256 times its
  ;; integer product (|q x| 256 <= 63 127 256 fits i16 x i16 -> i32). Windows of 2S inputs
  ;; (S = 16 for Q4_K's repacked sub-blocks, 64 for Q6_K's ql halves) pair position o + 2k
  ;; (lanes a, c = 2k, 2k + 1) with S + o + 2k (lanes b, d): exactly which weights one load holds.
  ;; Like matmul_q8, these run at about 8 weights per i32x4.dot_i16x8_s a cycle (in-cache, one
  ;; thread on the 2-core EPYC here: Q8_0 25, Q4_K 22, Q5_K and Q6_K about 12 Gw/s): on a
  ;; machine whose memory outpaces that, Q4_K saves memory rather than time; the extra bits of
  ;; Q5_K and Q6_K cost their or-ing. The relaxed build decodes Q4_K and Q6_K with int8 dots
  ;; instead (matmul_q4k_i8, matmul_q6k_i8: 16 products an instruction, the same sums).

  ;; Rows [a, b) of x (N, C) f32 to Q8_K in the layout of the K-quant kernels: per 256 inputs
  ;; d = max|x| / 127 into xd (N, C/256), q = nearest(x / d) as quantize_q8; xq (N, C) i16 in
  ;; windows of 2S: for each o = 0, 16, .. S - 16 the 32 values [256 q[o + 2k], 16 q[S + o + 2k],
  ;; q[o + 2k + 1], 256 q[S + o + 2k + 1]] (k = 0..7); xb (N, C/256, 16) i16 the sums of q: per
  ;; 32 inputs in order (S = 16; 8 used), or per 16 inputs in the Q6_K scale order (S = 64:
  ;; groups 0 4 2 6 1 5 3 7 of each 128, bits 0 and 2 of the group index swapped). C % 256 == 0.
  (func (export "quantize_q8k")
    (param $xq i32) (param $xd i32) (param $xb i32) (param $x i32) (param $N i32) (param $C i32) (param $S i32) (param $a i32) (param $b i32)
    (call $quantizeQ8K (local.get $xq) (local.get $xd) (local.get $xb) (local.get $x) (local.get $C) (local.get $S) (i32.const 0) (local.get $a) (local.get $b)))

  ;; quantize_q8k's work, its values as i16 in the windows' layout (bytes = 0) or as i8 in their
  ;; own order (bytes = 1: xq (N, C) int8, for the relaxed decode kernels); d and the sums alike.
  (func $quantizeQ8K
    (param $xq i32) (param $xd i32) (param $xb i32) (param $x i32) (param $C i32) (param $S i32) (param $bytes i32) (param $a i32) (param $b i32)
    (local $blk i32) (local $end i32) (local $i i32) (local $src i32) (local $dq i32) (local $d8 i32) (local $bs i32) (local $W i32) (local $o i32)
    (local $m f32) (local $d f32) (local $lo i32) (local $hi i32) (local $g i32)
    (local $mx v128) (local $id v128) (local $n0 v128) (local $n1 v128) (local $sl v128) (local $sh v128)
    (local.set $blk (i32.mul (local.get $a) (i32.shr_u (local.get $C) (i32.const 8))))
    (local.set $end (i32.mul (local.get $b) (i32.shr_u (local.get $C) (i32.const 8))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $end)))
      (local.set $src (i32.add (local.get $x) (i32.shl (local.get $blk) (i32.const 10))))
      (local.set $mx (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $i) (i32.const 1024)))
        (local.set $mx (f32x4.max (local.get $mx) (f32x4.abs (v128.load (i32.add (local.get $src) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l1)))
      (local.set $m (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
        (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
      (local.set $d (f32.div (local.get $m) (f32.const 127)))
      (local.set $id (f32x4.splat (select (f32.div (f32.const 1) (local.get $d)) (f32.const 0) (f32.gt (local.get $d) (f32.const 0)))))
      (f32.store (i32.add (local.get $xd) (i32.shl (local.get $blk) (i32.const 2))) (local.get $d))
      (local.set $dq (i32.add (local.get $xq) (i32.shl (local.get $blk) (i32.const 9))))
      (local.set $d8 (i32.add (local.get $xq) (i32.shl (local.get $blk) (i32.const 8))))
      (local.set $bs (i32.add (local.get $xb) (i32.shl (local.get $blk) (i32.const 5))))
      (v128.store (local.get $bs) (v128.const i32x4 0 0 0 0))
      (v128.store offset=16 (local.get $bs) (v128.const i32x4 0 0 0 0))
      ;; Windows W of 2S, offsets o = 0, 16, .. S - 16: q at W + o .. + 15 (lo) and W + S + o .. + 15 (hi).
      (local.set $W (i32.const 0))
      (block $wDone (loop $wLoop
        (br_if $wDone (i32.ge_u (local.get $W) (i32.const 256)))
        (local.set $o (i32.const 0))
        (block $oDone (loop $oLoop
          (br_if $oDone (i32.ge_u (local.get $o) (local.get $S)))
          (local.set $lo (i32.add (local.get $src) (i32.shl (i32.add (local.get $W) (local.get $o)) (i32.const 2))))
          (local.set $hi (i32.add (local.get $lo) (i32.shl (local.get $S) (i32.const 2))))
          ;; 16 codes as two i16x8 (saturating narrows are exact: |q| <= 127), then even and odd lanes.
          (local.set $n0 (i16x8.narrow_i32x4_s
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load (local.get $lo)) (local.get $id))))
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=16 (local.get $lo)) (local.get $id))))))
          (local.set $n1 (i16x8.narrow_i32x4_s
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=32 (local.get $lo)) (local.get $id))))
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=48 (local.get $lo)) (local.get $id))))))
          (local.set $sl (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $n0)) (i32x4.extadd_pairwise_i16x8_s (local.get $n1))))
          (local.set $g (i32.add (local.get $dq) (i32.shl (i32.add (local.get $W) (i32.shl (local.get $o) (i32.const 1))) (i32.const 1))))
          (if (local.get $bytes)
            (then (v128.store (i32.add (local.get $d8) (i32.add (local.get $W) (local.get $o))) (i8x16.narrow_i16x8_s (local.get $n0) (local.get $n1))))
            (else
              (v128.store (local.get $g) (i16x8.shl (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $n0) (local.get $n1)) (i32.const 8)))
              (v128.store offset=32 (local.get $g) (i8x16.shuffle 2 3 6 7 10 11 14 15 18 19 22 23 26 27 30 31 (local.get $n0) (local.get $n1)))))
          (local.set $n0 (i16x8.narrow_i32x4_s
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load (local.get $hi)) (local.get $id))))
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=16 (local.get $hi)) (local.get $id))))))
          (local.set $n1 (i16x8.narrow_i32x4_s
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=32 (local.get $hi)) (local.get $id))))
            (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (v128.load offset=48 (local.get $hi)) (local.get $id))))))
          (local.set $sh (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $n0)) (i32x4.extadd_pairwise_i16x8_s (local.get $n1))))
          (if (local.get $bytes)
            (then (v128.store (i32.add (local.get $d8) (i32.add (i32.add (local.get $W) (local.get $S)) (local.get $o))) (i8x16.narrow_i16x8_s (local.get $n0) (local.get $n1))))
            (else
              (v128.store offset=16 (local.get $g) (i16x8.shl (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $n0) (local.get $n1)) (i32.const 4)))
              (v128.store offset=48 (local.get $g) (i16x8.shl (i8x16.shuffle 2 3 6 7 10 11 14 15 18 19 22 23 26 27 30 31 (local.get $n0) (local.get $n1)) (i32.const 8)))))
          ;; Sums: per 32 (S < 64: the window is one sub-block), or per 16 at the scale order's positions.
          (if (i32.lt_u (local.get $S) (i32.const 64))
            (then
              (i32.store16 (i32.add (local.get $bs) (i32.shr_u (local.get $W) (i32.const 4)))
                (i32.add (i32.load16_s (i32.add (local.get $bs) (i32.shr_u (local.get $W) (i32.const 4))))
                  (call $hsumI (i32x4.add (local.get $sl) (local.get $sh))))))
            (else
              (local.set $g (i32.shr_u (i32.add (local.get $W) (local.get $o)) (i32.const 4)))
              (i32.store16 (i32.add (local.get $bs) (i32.shl (call $swap02 (local.get $g)) (i32.const 1))) (call $hsumI (local.get $sl)))
              (local.set $g (i32.shr_u (i32.add (i32.add (local.get $W) (local.get $S)) (local.get $o)) (i32.const 4)))
              (i32.store16 (i32.add (local.get $bs) (i32.shl (call $swap02 (local.get $g)) (i32.const 1))) (call $hsumI (local.get $sh)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br $oLoop)))
        (local.set $W (i32.add (local.get $W) (i32.shl (local.get $S) (i32.const 1))))
        (br $wLoop)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  (func $hsumI (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; A group index with bits 0 and 2 swapped (Q6K_SCALE_ORDER, its own inverse).
  (func $swap02 (param $g i32) (result i32)
    (i32.or (i32.and (local.get $g) (i32.const 10))
      (i32.or (i32.shl (i32.and (local.get $g) (i32.const 1)) (i32.const 2)) (i32.shr_u (i32.and (local.get $g) (i32.const 4)) (i32.const 2)))))

  ;; out (N, OC) (by mode, $store) = Q8_K input (xq, xd, xb from quantize_q8k with S = 16) .
  ;; Q4_K weights^T + bias, rows [a, b); w: rows of C/2 qs bytes repacked one sub-block per 16
  ;; bytes (byte i: codes i | 16 + i << 4), ws: rows of C/256 24-byte factors
  ;; (packQ4KForward). Per row and super-block, one 16-byte load per sub-block s: its 4 dots
  ;; summed (lane j: codes i with i % 16 in 4j .. 4j + 3) times sc_s (a load8 splat >> 24)
  ;; into isum (|.| < 2^31: 8 sub-blocks x 8 products x 15 x 127 x 256 x 63), >> 8 (the
  ;; layout's factor 256, exact) at the end; msum = the i16 dot of m[0..7] with the input's
  ;; 32-sums (lane j: sub-blocks 2j, 2j + 1). Float32, lane by lane:
  ;; acc = (acc + f32(isum) (d xd)) - f32(msum) (dmin xd); the row's result is
  ;; (acc0 + acc1) + (acc2 + acc3), then $store. The loop body is one load: a straight pass
  ;; over more let the compiler hoist every load and spill (in-cache 11.5 -> 19 Gw/s here).
  (func (export "matmul_q4k")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $s i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32)
    (local $v v128) (local $isum v128) (local $acc v128)
    (local $k0f v128) (local $kf0 v128) (local $kf00 v128)
    (local.set $k0f (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f))
    (local.set $kf0 (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0))
    (local.set $kf00 (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00))
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 1))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1)))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 24))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $isum (v128.const i32x4 0 0 0 0))
          (local.set $s (i32.const 0))
          (loop $sLoop
            (local.set $v (v128.load (local.get $wp)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.mul
              (i32x4.add
                (i32x4.add
                  (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $k0f)) (v128.load (local.get $x)))
                  (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $kf00)) (v128.load offset=32 (local.get $x))))
                (i32x4.add
                  (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $kf0)) (v128.load offset=16 (local.get $x)))
                  (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (v128.load offset=48 (local.get $x)))))
              (i32x4.shr_u (v128.load8_splat offset=8 (i32.add (local.get $mp) (local.get $s))) (i32.const 24)))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br_if $sLoop (i32.lt_u (local.get $s) (i32.const 8))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shr_s (local.get $isum) (i32.const 8)))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $acc (f32x4.sub (local.get $acc) (f32x4.mul
            (f32x4.convert_i32x4_s (i32x4.dot_i16x8_s (v128.load8x8_u offset=16 (local.get $mp)) (v128.load (local.get $xbp))))
            (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $mp (i32.add (local.get $mp) (i32.const 24)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; As matmul_q4k for Q5_K weights (packQ5KForward: the low 4 bits of the codes as Q4_K's qs,
  ;; factors as Q4_K's then the fifth bits as one 32-bit word per sub-block: for i16 lane
  ;; k = 2j + e of a 16-byte load, the bits of its codes a, b, c, d at 16e + j, + 4, + 8, + 12).
  ;; The word, splat and multiplied per lane by 2^(3 - j), has them at 3, 7, 11, 15: shifted
  ;; onto the nibbles (bit 4 of a code at scale 1, 8 at 16, 12 at 256) and or-ed: q in 0..31.
  ;; A sub-block's products can reach 8 x 31 x 127 x 256 x 63 per lane: >> 8 (exact) before
  ;; isum. Input from quantize_q8k with S = 16, as matmul_q4k.
  (func (export "matmul_q5k")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $s i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32)
    (local $v v128) (local $t v128) (local $t2 v128) (local $isum v128) (local $acc v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 1))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1)))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 56))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $isum (v128.const i32x4 0 0 0 0))
          (local.set $s (i32.const 0))
          (loop $sLoop
            (local.set $v (v128.load (local.get $wp)))
            (local.set $t (i16x8.mul (v128.load32_splat offset=24 (i32.add (local.get $mp) (i32.shl (local.get $s) (i32.const 2))))
              (v128.const i16x8 8 8 4 4 2 2 1 1)))
            (local.set $t2 (i16x8.shl (local.get $t) (i32.const 1)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.shr_s (i32x4.mul
              (i32x4.add
                (i32x4.add
                  (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $v) (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f))
                    (v128.and (local.get $t2) (v128.const i16x8 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010))) (v128.load (local.get $x)))
                  (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $v) (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00))
                    (v128.and (local.get $t2) (v128.const i16x8 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000))) (v128.load offset=32 (local.get $x))))
                (i32x4.add
                  (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $v) (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0))
                    (v128.and (local.get $t2) (v128.const i16x8 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100))) (v128.load offset=16 (local.get $x)))
                  (i32x4.dot_i16x8_s (v128.or (i16x8.shr_u (local.get $v) (i32.const 12))
                    (v128.and (i16x8.shr_u (local.get $t) (i32.const 11)) (v128.const i16x8 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010))) (v128.load offset=48 (local.get $x)))))
              (i32x4.shr_u (v128.load8_splat offset=8 (i32.add (local.get $mp) (local.get $s))) (i32.const 24))) (i32.const 8))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br_if $sLoop (i32.lt_u (local.get $s) (i32.const 8))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $isum))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $acc (f32x4.sub (local.get $acc) (f32x4.mul
            (f32x4.convert_i32x4_s (i32x4.dot_i16x8_s (v128.load8x8_u offset=16 (local.get $mp)) (v128.load (local.get $xbp))))
            (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $mp (i32.add (local.get $mp) (i32.const 56)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; As matmul_q4k for Q6_K weights (packQ6KForward: rows of C/256 x 192 bytes ql | qh as in
  ;; the file, factors d f32 + 16 int8 scales in the order 0 4 2 6 1 5 3 7 8 12 10 14 9 13 11 15)
  ;; and input from quantize_q8k with S = 64. Step t = 0..7 of a super-block takes half
  ;; h = t >> 2, l0 = 16 ((t >> 1) & 1), v = t & 1: ql at 64h + 32v + l0 (codes of weights
  ;; 32v + l0 .. (lanes a, c) and 64 + 32v + l0 .. (lanes b, d) of the half) and qh at
  ;; 128 + 32h + l0, whose 2-bit fields (shifted by 4 - 2v) are or-ed onto the nibbles (bits 4-5
  ;; of a code at scale 1, 8-9 at 16, 12-13 at 256): q in 0..63. A loop iteration takes the
  ;; two steps v = 0, 1 that share a qh load. |dot| <= 4 x 63 x 127 x 256 per lane, so a step's
  ;; two groups times their scales (|sc| <= 128) stay within i32 (2 097 414 144) before the
  ;; exact >> 8. The two groups' dots (lane j:
  ;; group positions 4j .. 4j + 3) times their scales (positions 2t, 2t + 1), >> 8, into isum,
  ;; from which the codes' offset comes off as 32 x the i16 dot of the scales with the
  ;; input's 16-sums (same order). Float32 per lane: acc = acc + f32(isum) (d xd).
  (func (export "matmul_q6k")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $t i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32) (local $x1 i32) (local $qp i32) (local $sp i32)
    (local $q v128) (local $hv v128) (local $h4 v128) (local $h2 v128) (local $isum v128) (local $acc v128) (local $sc v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 1))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 192))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 20))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $sc (v128.load offset=4 (local.get $mp)))
          (local.set $isum (i32x4.sub (v128.const i32x4 0 0 0 0) (i32x4.shl (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $sc)) (v128.load (local.get $xbp)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $sc)) (v128.load offset=16 (local.get $xbp)))) (i32.const 5))))
          (local.set $t (i32.const 0))
          (local.set $qp (local.get $wp))
          (local.set $x1 (local.get $x))
          (local.set $sp (local.get $mp))
          ;; u = 0..3: half h = u >> 1, l0 = 16 (u & 1); ql at 64h + l0 (v = 0) and + 32 (v = 1),
          ;; qh at 128 + 32h + l0, x at 256h + 64 (l0 / 16) (+ 128 for v = 1).
          (loop $tLoop
            (local.set $hv (v128.load offset=128 (i32.sub (local.get $qp) (i32.shl (i32.shr_u (local.get $t) (i32.const 1)) (i32.const 5)))))
            (local.set $h4 (i16x8.shl (local.get $hv) (i32.const 4)))
            (local.set $h2 (i16x8.shl (local.get $hv) (i32.const 2)))
            (local.set $q (v128.load offset=0 (local.get $qp)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.shr_s (i32x4.add
              (i32x4.mul (i32x4.add
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f)) (v128.and (local.get $h4) (v128.const i16x8 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030))) (v128.load offset=0 (local.get $x1)))
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00)) (v128.and (local.get $h4) (v128.const i16x8 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000))) (v128.load offset=32 (local.get $x1))))
                (i32x4.shr_s (v128.load8_splat offset=4 (local.get $sp)) (i32.const 24)))
              (i32x4.mul (i32x4.add
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0)) (v128.and (local.get $h4) (v128.const i16x8 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300))) (v128.load offset=16 (local.get $x1)))
                (i32x4.dot_i16x8_s (v128.or (i16x8.shr_u (local.get $q) (i32.const 12)) (v128.and (i16x8.shr_u (local.get $hv) (i32.const 8)) (v128.const i16x8 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030))) (v128.load offset=48 (local.get $x1))))
                (i32x4.shr_s (v128.load8_splat offset=5 (local.get $sp)) (i32.const 24)))) (i32.const 8))))
            ;; An effect between the two halves keeps the second one's loads after the first one's
            ;; arithmetic (the compiler hoists loads to the top of a block and spills).
            (global.set $sink (i32x4.extract_lane 0 (local.get $isum)))
            (local.set $q (v128.load offset=32 (local.get $qp)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.shr_s (i32x4.add
              (i32x4.mul (i32x4.add
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f)) (v128.and (local.get $h2) (v128.const i16x8 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030))) (v128.load offset=128 (local.get $x1)))
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00)) (v128.and (local.get $h2) (v128.const i16x8 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000 0x3000))) (v128.load offset=160 (local.get $x1))))
                (i32x4.shr_s (v128.load8_splat offset=6 (local.get $sp)) (i32.const 24)))
              (i32x4.mul (i32x4.add
                (i32x4.dot_i16x8_s (v128.or (v128.and (local.get $q) (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0)) (v128.and (local.get $h2) (v128.const i16x8 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300 0x0300))) (v128.load offset=144 (local.get $x1)))
                (i32x4.dot_i16x8_s (v128.or (i16x8.shr_u (local.get $q) (i32.const 12)) (v128.and (i16x8.shr_u (local.get $hv) (i32.const 10)) (v128.const i16x8 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030 0x0030))) (v128.load offset=176 (local.get $x1))))
                (i32x4.shr_s (v128.load8_splat offset=7 (local.get $sp)) (i32.const 24)))) (i32.const 8))))
            (local.set $qp (i32.add (local.get $qp) (select (i32.const 48) (i32.const 16) (i32.and (local.get $t) (i32.const 1)))))
            (local.set $x1 (i32.add (local.get $x1) (select (i32.const 192) (i32.const 64) (i32.and (local.get $t) (i32.const 1)))))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br_if $tLoop (i32.lt_u (local.get $t) (i32.const 4))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $isum))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $wp (i32.add (local.get $wp) (i32.const 192)))
          (local.set $x (i32.add (local.get $x) (i32.const 512)))
          (local.set $mp (i32.add (local.get $mp) (i32.const 20)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; @relaxed
  ;; ---- K-quant decode on 8-bit input: relaxed int8 dots ----
  ;; i16x8.relaxed_dot_i8x16_i7x16_s takes its first operand as signed bytes and its second in
  ;; [0, 127]: the input's 8-bit q (quantize_q8k_i8, |q| <= 127) goes first and the weights'
  ;; codes, small and unsigned (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63), second, so nothing is rounded
  ;; to 7 bits and a pair of products fits i16 (2 x 127 x 63 = 16002: no engine saturates).
  ;; i32x4.dot_i16x8_s with the code group's scale splat then widens and scales in one step.
  ;; Lane j of a 16-code group's dot holds codes 4j .. 4j + 3, as in matmul_q4k / q5k / q6k, and
  ;; the integers are exact, so every lane's sum, the float32 steps and the results are theirs bit
  ;; for bit, at 16 products an instruction where their i16 dots take 8.

  ;; Rows [a, b) of x (N, C) f32 to Q8_K as quantize_q8k (same d and sums xb for window S), the
  ;; values as int8 in their own order: xq (N, C) bytes.
  (func (export "quantize_q8k_i8")
    (param $xq i32) (param $xd i32) (param $xb i32) (param $x i32) (param $N i32) (param $C i32) (param $S i32) (param $a i32) (param $b i32)
    (call $quantizeQ8K (local.get $xq) (local.get $xd) (local.get $xb) (local.get $x) (local.get $C) (local.get $S) (i32.const 1) (local.get $a) (local.get $b)))

  ;; As matmul_q4k on quantize_q8k_i8's input (S = 16): a sub-block's 16 bytes hold codes i
  ;; (low nibble) and 16 + i (high), against the input's 16 + 16 bytes; the two i16 dots added
  ;; (|.| <= 4 x 15 x 127) are scaled by sc_s into isum. Two sub-blocks an iteration (1.5B
  ;; shapes, 1 thread: 4% faster than one). Reference: matmulQ4KForward.
  (func (export "matmul_q4k_i8")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $s i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32)
    (local $v v128) (local $isum v128) (local $acc v128) (local $k0f v128)
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.mul (local.get $n) (local.get $C))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1)))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 24))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $isum (v128.const i32x4 0 0 0 0))
          (local.set $s (i32.const 0))
          (loop $sLoop
            (local.set $v (v128.load (local.get $wp)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.dot_i16x8_s
              (i16x8.add
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load (local.get $x)) (v128.and (local.get $v) (local.get $k0f)))
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=16 (local.get $x)) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (i16x8.extend_low_i8x16_u (v128.load8_splat offset=8 (i32.add (local.get $mp) (local.get $s)))))))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.dot_i16x8_s
              (i16x8.add
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=32 (local.get $x)) (v128.and (local.get $v) (local.get $k0f)))
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=48 (local.get $x)) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (i16x8.extend_low_i8x16_u (v128.load8_splat offset=9 (i32.add (local.get $mp) (local.get $s)))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $s (i32.add (local.get $s) (i32.const 2)))
            (br_if $sLoop (i32.lt_u (local.get $s) (i32.const 8))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $isum))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $acc (f32x4.sub (local.get $acc) (f32x4.mul
            (f32x4.convert_i32x4_s (i32x4.dot_i16x8_s (v128.load8x8_u offset=16 (local.get $mp)) (v128.load (local.get $xbp))))
            (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $mp (i32.add (local.get $mp) (i32.const 24)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; As matmul_q4k_i8 for Q5_K weights (packQ5KForward), as matmul_q5k on its input: the fifth
  ;; bits' word of sub-block s, splat as 32 bits, has in byte i % 4 the bit of code i at
  ;; i >> 2 and of code 16 + i at 4 + (i >> 2) (the i16 lanes' placement), so one mask and
  ;; compare per vector turn them into 16 or 0 for the code's byte: q in 0..31, pairs of products
  ;; 2 x 31 x 127 within i16. Reference: matmulQ5KForward.
  (func (export "matmul_q5k_i8")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $s i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32)
    (local $v v128) (local $h v128) (local $isum v128) (local $acc v128) (local $k0f v128)
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.mul (local.get $n) (local.get $C))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1)))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 56))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $isum (v128.const i32x4 0 0 0 0))
          (local.set $s (i32.const 0))
          (loop $sLoop
            (local.set $v (v128.load (local.get $wp)))
            (local.set $h (v128.load32_splat offset=24 (i32.add (local.get $mp) (i32.shl (local.get $s) (i32.const 2)))))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.dot_i16x8_s
              (i16x8.add
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load (local.get $x))
                  (v128.or (v128.and (local.get $v) (local.get $k0f))
                    (v128.and (i8x16.eq (v128.and (local.get $h) (v128.const i8x16 1 1 1 1 2 2 2 2 4 4 4 4 8 8 8 8)) (v128.const i8x16 1 1 1 1 2 2 2 2 4 4 4 4 8 8 8 8))
                      (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))))
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=16 (local.get $x))
                  (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))
                    (v128.and (i8x16.eq (v128.and (local.get $h) (v128.const i8x16 16 16 16 16 32 32 32 32 64 64 64 64 128 128 128 128)) (v128.const i8x16 16 16 16 16 32 32 32 32 64 64 64 64 128 128 128 128))
                      (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16)))))
              (i16x8.extend_low_i8x16_u (v128.load8_splat offset=8 (i32.add (local.get $mp) (local.get $s)))))))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $h (v128.load32_splat offset=28 (i32.add (local.get $mp) (i32.shl (local.get $s) (i32.const 2)))))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.dot_i16x8_s
              (i16x8.add
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=32 (local.get $x))
                  (v128.or (v128.and (local.get $v) (local.get $k0f))
                    (v128.and (i8x16.eq (v128.and (local.get $h) (v128.const i8x16 1 1 1 1 2 2 2 2 4 4 4 4 8 8 8 8)) (v128.const i8x16 1 1 1 1 2 2 2 2 4 4 4 4 8 8 8 8))
                      (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))))
                (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=48 (local.get $x))
                  (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))
                    (v128.and (i8x16.eq (v128.and (local.get $h) (v128.const i8x16 16 16 16 16 32 32 32 32 64 64 64 64 128 128 128 128)) (v128.const i8x16 16 16 16 16 32 32 32 32 64 64 64 64 128 128 128 128))
                      (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16)))))
              (i16x8.extend_low_i8x16_u (v128.load8_splat offset=9 (i32.add (local.get $mp) (local.get $s)))))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $s (i32.add (local.get $s) (i32.const 2)))
            (br_if $sLoop (i32.lt_u (local.get $s) (i32.const 8))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $isum))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $acc (f32x4.sub (local.get $acc) (f32x4.mul
            (f32x4.convert_i32x4_s (i32x4.dot_i16x8_s (v128.load8x8_u offset=16 (local.get $mp)) (v128.load (local.get $xbp))))
            (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $mp (i32.add (local.get $mp) (i32.const 56)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; As matmul_q6k on quantize_q8k_i8's input (S = 64). Step u = 0..3 of a super-block takes
  ;; half h = u >> 1 and l0 = 16 (u & 1): ql bytes A at 64h + l0, B at + 32, qh bytes H at
  ;; 128 + 32h + l0 give the codes of weights 128h + l0 + i + 32k (k = 0..3) as
  ;; A & 15 | (H & 3) << 4, B & 15 | (H >> 2 & 3) << 4, A >> 4 | (H >> 4 & 3) << 4,
  ;; B >> 4 | (H >> 6) << 4 (ggml's order), whose groups 8h + (l0 / 16) + 2k sit at scale
  ;; positions 8h + 4 (u & 1) + 0, 2, 1, 3 (Q6K_SCALE_ORDER). The bytes are shifted as i16 and
  ;; masked, which drops the bits crossing from the neighbouring byte. isum starts as
  ;; matmul_q6k's: the codes' offset of 32 off through the input's 16-sums. Reference:
  ;; matmulQ6KForward.
  (func (export "matmul_q6k_i8")
    (param $out i32) (param $xq i32) (param $xd i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $o i32) (local $n i32) (local $blk i32) (local $u i32)
    (local $x i32) (local $xdp i32) (local $xbp i32) (local $wp i32) (local $mp i32) (local $x1 i32) (local $qp i32) (local $sp i32)
    (local $qa v128) (local $qb v128) (local $hv v128) (local $isum v128) (local $acc v128) (local $sc v128) (local $k0f v128) (local $k30 v128)
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $k30 (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48))
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.mul (local.get $n) (local.get $C))))
        (local.set $xdp (i32.add (local.get $xd) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 5))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 192))))
        (local.set $mp (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 20))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $sc (v128.load offset=4 (local.get $mp)))
          (local.set $isum (i32x4.sub (v128.const i32x4 0 0 0 0) (i32x4.shl (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $sc)) (v128.load (local.get $xbp)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $sc)) (v128.load offset=16 (local.get $xbp)))) (i32.const 5))))
          (local.set $u (i32.const 0))
          ;; ql at qp = 64h + l0, qh at 128 + 16u, x at x1 = 128h + l0, scales at sp = 8h + 4 (u & 1).
          (local.set $qp (local.get $wp))
          (local.set $x1 (local.get $x))
          (local.set $sp (local.get $mp))
          (loop $uLoop
            (local.set $qa (v128.load (local.get $qp)))
            (local.set $qb (v128.load offset=32 (local.get $qp)))
            (local.set $hv (v128.load offset=128 (i32.add (local.get $wp) (i32.shl (local.get $u) (i32.const 4)))))
            (local.set $isum (i32x4.add (local.get $isum) (i32x4.add
              (i32x4.add
                (i32x4.dot_i16x8_s
                  (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=0 (local.get $x1))
                    (v128.or (v128.and (local.get $qa) (local.get $k0f)) (v128.and (i16x8.shl (local.get $hv) (i32.const 4)) (local.get $k30))))
                  (i16x8.splat (i32.load8_s offset=4 (local.get $sp))))
                (i32x4.dot_i16x8_s
                  (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=32 (local.get $x1))
                    (v128.or (v128.and (local.get $qb) (local.get $k0f)) (v128.and (i16x8.shl (local.get $hv) (i32.const 2)) (local.get $k30))))
                  (i16x8.splat (i32.load8_s offset=6 (local.get $sp)))))
              (i32x4.add
                (i32x4.dot_i16x8_s
                  (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=64 (local.get $x1))
                    (v128.or (v128.and (i16x8.shr_u (local.get $qa) (i32.const 4)) (local.get $k0f)) (v128.and (local.get $hv) (local.get $k30))))
                  (i16x8.splat (i32.load8_s offset=5 (local.get $sp))))
                (i32x4.dot_i16x8_s
                  (i16x8.relaxed_dot_i8x16_i7x16_s (v128.load offset=96 (local.get $x1))
                    (v128.or (v128.and (i16x8.shr_u (local.get $qb) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $hv) (i32.const 2)) (local.get $k30))))
                  (i16x8.splat (i32.load8_s offset=7 (local.get $sp))))))))
            (local.set $qp (i32.add (local.get $qp) (select (i32.const 48) (i32.const 16) (i32.and (local.get $u) (i32.const 1)))))
            (local.set $x1 (i32.add (local.get $x1) (select (i32.const 112) (i32.const 16) (i32.and (local.get $u) (i32.const 1)))))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br_if $uLoop (i32.lt_u (local.get $u) (i32.const 4))))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $isum))
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.load (local.get $xdp)))))))
          (local.set $wp (i32.add (local.get $wp) (i32.const 192)))
          (local.set $x (i32.add (local.get $x) (i32.const 256)))
          (local.set $mp (i32.add (local.get $mp) (i32.const 20)))
          (local.set $xdp (i32.add (local.get $xdp) (i32.const 4)))
          (local.set $xbp (i32.add (local.get $xbp) (i32.const 32)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (call $store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (call $hsum (local.get $acc)) (local.get $bias) (local.get $o) (local.get $mode))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))
  ;; @end

  ;; ---- Q4_0 and Q5_0 ----
  ;; Weights stay in ggml's blocks of 32 (engine/formats/q4_0.ts, q4_1_q5.ts), packed by
  ;; packQ45Forward (engine/kernels/quant45.ts) in groups of 4 rows like packQ8Forward: per group
  ;; and block, the 4 rows' 16 code bytes (byte i: code i | code 16 + i << 4, as the file has
  ;; them), then for Q5_0 the 4 rows' fifth bits in 16 bytes (byte i: bit r for row r's code i,
  ;; bit 4 + r for its code 16 + i): w (ceil(OC/4), C/32, 64 | 80) bytes; the scales as
  ;; packQ8Forward's, ws (ceil(OC/4), C/32, 4) f32. 20 and 24 bytes per 32 weights against the
  ;; file's 18 and 22. $kind 0: Q4_0 (codes 0..15, weight d (q - 8)), 1: Q5_0 (codes 0..31,
  ;; weight d (q - 16)). A row's codes are two ops a half: the low nibbles masked, the high ones
  ;; shifted by 4 as i16 and masked (bits crossing from the neighbouring byte fall outside the
  ;; mask); a fifth bit moves to bit 4 the same way (row r: the bytes shifted left 4 - r, or right
  ;; r, as i16) and is or-ed in. References: matmulQ45Forward in quant45.ts.

  ;; The unsigned codes of columns [16 h, 16 h + 16) of row r of the group block at $g.
  (func $codes45 (param $g i32) (param $r i32) (param $h i32) (param $kind i32) (result v128)
    (local $c v128)
    (local.set $c (v128.and
      (i16x8.shr_u (v128.load (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 4)))) (i32.shl (local.get $h) (i32.const 2)))
      (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
    (if (result v128) (local.get $kind)
      (then (v128.or (local.get $c) (v128.and
        (i16x8.shr_u (i16x8.shl (v128.load offset=64 (local.get $g)) (i32.sub (i32.const 4) (i32.shl (local.get $h) (i32.const 2)))) (local.get $r))
        (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))))
      (else (local.get $c))))

  ;; out (N, OC) (by mode, $store4) = quantize_q8 input (xq, xs) . Q4_0 / Q5_0 weights^T + bias,
  ;; columns [a, b) (a a multiple of 4), for few input rows: matmul_q8's pass over a group of 4
  ;; rows, each row's codes unpacked to int8 q - 8 (q - 16) in place of the stored int8. One loop
  ;; per kind, its 4 rows and 2 halves written out: shifts by constants, no branch per row (a
  ;; loop over the halves with a variable shift and a branch on kind: Q4_0 relaxed, 0.5B decode set,
  ;; 1 thread, 9.6 against 4.5 ms). C % 32 == 0.
  (func (export "matmul_q45")
    (param $out i32) (param $xq i32) (param $xs i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $kind i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $n i32) (local $o i32) (local $e i32) (local $x i32) (local $xsp i32) (local $wp i32) (local $sp i32)
    (local $v v128) (local $h v128) (local $k0f v128) (local $k16 v128) (local $c v128) (local $off v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $acc v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $k16 (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))
    (local.set $off (i8x16.splat (i32.shl (i32.const 8) (local.get $kind))))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.shl (i32.mul (local.get $n) (local.get $C)) (i32.const 1))))
        (local.set $xsp (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (i32.mul (i32.shr_u (local.get $o) (i32.const 2)) (local.get $nb))
          (i32.add (i32.const 64) (i32.shl (local.get $kind) (i32.const 4))))))
        (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $o) (local.get $nb)) (i32.const 2))))
        (local.set $e (i32.add (local.get $xsp) (i32.shl (local.get $nb) (i32.const 2))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (if (local.get $kind)
          (then (loop $q5
            (local.set $v (v128.load offset=0 (local.get $wp)))
            (local.set $h (v128.load offset=64 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 4)) (local.get $k16))) (local.get $off)))
            (local.set $d0 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (local.get $h) (local.get $k16))) (local.get $off)))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 3)) (local.get $k16))) (local.get $off)))
            (local.set $d1 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 1)) (local.get $k16))) (local.get $off)))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=32 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 2)) (local.get $k16))) (local.get $off)))
            (local.set $d2 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 2)) (local.get $k16))) (local.get $off)))
            (local.set $d2 (i32x4.add (local.get $d2) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=48 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 1)) (local.get $k16))) (local.get $off)))
            (local.set $d3 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 3)) (local.get $k16))) (local.get $off)))
            (local.set $d3 (i32x4.add (local.get $d3) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
            (local.set $d2 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d2) (local.get $d3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d2) (local.get $d3))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $d0) (local.get $d2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $d0) (local.get $d2))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $d0))
              (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xsp))))))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 80)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
            (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
            (br_if $q5 (i32.lt_u (local.get $xsp) (local.get $e)))))
          (else (loop $q4
            (local.set $v (v128.load offset=0 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.and (local.get $v) (local.get $k0f)) (local.get $off)))
            (local.set $d0 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $off)))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.and (local.get $v) (local.get $k0f)) (local.get $off)))
            (local.set $d1 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $off)))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=32 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.and (local.get $v) (local.get $k0f)) (local.get $off)))
            (local.set $d2 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $off)))
            (local.set $d2 (i32x4.add (local.get $d2) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $v (v128.load offset=48 (local.get $wp)))
            (local.set $c (i8x16.sub (v128.and (local.get $v) (local.get $k0f)) (local.get $off)))
            (local.set $d3 (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=0 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=16 (local.get $x)))))
            (local.set $c (i8x16.sub (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (local.get $off)))
            (local.set $d3 (i32x4.add (local.get $d3) (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.shl (local.get $c) (i32.const 8)) (v128.load offset=32 (local.get $x)))
              (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $c) (i32.const 8)) (v128.load offset=48 (local.get $x))))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
            (local.set $d2 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d2) (local.get $d3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d2) (local.get $d3))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $d0) (local.get $d2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $d0) (local.get $d2))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $d0))
              (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xsp))))))
            (local.set $x (i32.add (local.get $x) (i32.const 64)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
            (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
            (br_if $q4 (i32.lt_u (local.get $xsp) (local.get $e))))))
        (call $store4 (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (local.get $acc) (local.get $bias) (local.get $o) (local.get $mode) (local.get $b))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $oLoop))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) f32 . Q4_0 / Q5_0 w^T expanded to f32 + bias,
  ;; columns [a, b) (a a multiple of 32), for many input rows: as matmul_q8_f32, each block of 32
  ;; rows expanded to d (q - 8) (d (q - 16)), as the format's dequantizer, into this thread's
  ;; scratch (128 C bytes at scratch + tid 128 C) for the f32 kernel's tiles. C % 32 == 0.
  (func (export "matmul_q45_f32")
    (param $out i32) (param $inp i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $kind i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $nb i32) (local $G i32) (local $buf i32) (local $ob i32) (local $oe i32) (local $o i32) (local $r i32) (local $blk i32)
    (local $g i32) (local $sp i32) (local $dst i32) (local $sv v128) (local $off v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $G (i32.add (i32.const 64) (i32.shl (local.get $kind) (i32.const 4))))
    (local.set $off (i16x8.splat (i32.sub (i32.const 0) (i32.shl (i32.const 8) (local.get $kind)))))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $g (i32.add (local.get $w) (i32.mul (i32.mul (i32.shr_u (local.get $ob) (i32.const 2)) (local.get $nb)) (local.get $G))))
      (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $ob) (local.get $nb)) (i32.const 2))))
      (local.set $o (local.get $ob))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (i32.const 4)))
            ;; Rows past the end are padding (the last group of a width not a multiple of 4).
            (if (i32.lt_u (i32.add (local.get $o) (local.get $r)) (local.get $oe)) (then
              (local.set $dst (i32.add (local.get $buf) (i32.shl
                (i32.add (i32.mul (i32.sub (i32.add (local.get $o) (local.get $r)) (local.get $ob)) (local.get $C)) (i32.shl (local.get $blk) (i32.const 5)))
                (i32.const 2))))
              (local.set $sv (v128.load32_splat (local.get $sp)))
              (call $expand16 (local.get $dst) (call $codes45 (local.get $g) (local.get $r) (i32.const 0) (local.get $kind))
                (local.get $off) (local.get $sv) (v128.const i32x4 0 0 0 0))
              (call $expand16 (i32.add (local.get $dst) (i32.const 64)) (call $codes45 (local.get $g) (local.get $r) (i32.const 1) (local.get $kind))
                (local.get $off) (local.get $sv) (v128.const i32x4 0 0 0 0))))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $g (i32.add (local.get $g) (local.get $G)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $gLoop)))
      (call $matmul_f32 (local.get $out) (local.get $inp)
        (i32.sub (local.get $buf) (i32.shl (i32.mul (local.get $ob) (local.get $C)) (i32.const 2)))
        (local.get $bias) (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; @relaxed
  ;; ---- Q4_0 and Q5_0 on relaxed SIMD ----
  ;; Decode: the input as 8-bit Q8_0 in order (quantize_q8_i8), the first operand of
  ;; i16x8.relaxed_dot_i8x16_i7x16_s, the unsigned codes (0..15, 0..31) the second, so the dots
  ;; are exact; each block's offset (8 or 16 times the input block's sum) comes off in integers,
  ;; so the integer dot, the float32 steps and the results are matmul_q45's bit for bit.
  ;; Prefill: the int8 tiles ($tilesI8) over bands of the codes q - 8 (q - 16), signed first operands.

  ;; Rows [a, b) of x (N, C) f32 to Q8_0 as quantize_q8 (the same d = max|x| / 127 and q), the
  ;; values as int8 in order: xq (N, C) bytes, xs (N, C/32) f32 d (not d / 256), xb (N, C/32) i32
  ;; the blocks' sums of q. C % 32 == 0.
  (func (export "quantize_q8_i8")
    (param $xq i32) (param $xs i32) (param $xb i32) (param $x i32) (param $N i32) (param $C i32) (param $a i32) (param $b i32)
    (local $blk i32) (local $end i32) (local $src i32) (local $i i32) (local $d f32) (local $m v128) (local $id v128) (local $h v128) (local $sum v128)
    (local.set $blk (i32.mul (local.get $a) (i32.shr_u (local.get $C) (i32.const 5))))
    (local.set $end (i32.mul (local.get $b) (i32.shr_u (local.get $C) (i32.const 5))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $blk) (local.get $end)))
      (local.set $src (i32.add (local.get $x) (i32.shl (local.get $blk) (i32.const 7))))
      (local.set $m (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $mDone (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $i) (i32.const 128)))
        (local.set $m (f32x4.max (local.get $m) (f32x4.abs (v128.load (i32.add (local.get $src) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $mLoop)))
      (local.set $d (f32.div
        (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
          (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m))))
        (f32.const 127)))
      (f32.store (i32.add (local.get $xs) (i32.shl (local.get $blk) (i32.const 2))) (local.get $d))
      (local.set $id (f32x4.splat (select (f32.div (f32.const 1) (local.get $d)) (f32.const 0) (f32.gt (local.get $d) (f32.const 0)))))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $qDone (loop $qLoop
        (br_if $qDone (i32.ge_u (local.get $i) (i32.const 128)))
        (local.set $h (i8x16.narrow_i16x8_s
          (i16x8.narrow_i32x4_s (call $q8 (v128.load offset=0 (i32.add (local.get $src) (local.get $i))) (local.get $id))
            (call $q8 (v128.load offset=16 (i32.add (local.get $src) (local.get $i))) (local.get $id)))
          (i16x8.narrow_i32x4_s (call $q8 (v128.load offset=32 (i32.add (local.get $src) (local.get $i))) (local.get $id))
            (call $q8 (v128.load offset=48 (i32.add (local.get $src) (local.get $i))) (local.get $id)))))
        (v128.store (i32.add (i32.add (local.get $xq) (i32.shl (local.get $blk) (i32.const 5))) (i32.shr_u (local.get $i) (i32.const 2))) (local.get $h))
        (local.set $sum (i32x4.add (local.get $sum) (i32x4.extadd_pairwise_i16x8_s (i16x8.extadd_pairwise_i8x16_s (local.get $h)))))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $qLoop)))
      (i32.store (i32.add (local.get $xb) (i32.shl (local.get $blk) (i32.const 2))) (call $hsumI (local.get $sum)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $l))))

  (func $q8 (param $v v128) (param $id v128) (result v128)
    (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (local.get $v) (local.get $id)))))

  ;; As matmul_q45 on quantize_q8_i8's input (xq, xs, xb): per block and row the two halves'
  ;; relaxed dots add up in i16 (|.| <= 2 x 2 x 127 x 31), widen once, and the 4 rows' sums
  ;; less 8 (16) times the input block's sum meet floats as matmul_q45's. Reference: matmulQ45Forward.
  (func (export "matmul_q45_i8")
    (param $out i32) (param $xq i32) (param $xs i32) (param $xb i32) (param $w i32) (param $ws i32) (param $bias i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $kind i32) (param $a i32) (param $b i32)
    (local $nb i32) (local $n i32) (local $o i32) (local $e i32) (local $x i32) (local $xsp i32) (local $wp i32) (local $sp i32) (local $xbp i32)
    (local $v v128) (local $h v128) (local $k0f v128) (local $k16 v128) (local $xl v128) (local $xh v128) (local $ones v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $acc v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $k16 (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))
    (local.set $ones (v128.const i16x8 1 1 1 1 1 1 1 1))
    (local.set $o (local.get $a))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $b)))
      (local.set $n (i32.const 0))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $x (i32.add (local.get $xq) (i32.mul (local.get $n) (local.get $C))))
        (local.set $xsp (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $xbp (i32.add (local.get $xb) (i32.shl (i32.mul (local.get $n) (local.get $nb)) (i32.const 2))))
        (local.set $wp (i32.add (local.get $w) (i32.mul (i32.mul (i32.shr_u (local.get $o) (i32.const 2)) (local.get $nb))
          (i32.add (i32.const 64) (i32.shl (local.get $kind) (i32.const 4))))))
        (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $o) (local.get $nb)) (i32.const 2))))
        (local.set $e (i32.add (local.get $xsp) (i32.shl (local.get $nb) (i32.const 2))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (if (local.get $kind)
          (then (loop $q5
            (local.set $xl (v128.load (local.get $x)))
            (local.set $xh (v128.load offset=16 (local.get $x)))
            (local.set $v (v128.load offset=0 (local.get $wp)))
            (local.set $h (v128.load offset=64 (local.get $wp)))
            (local.set $d0 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 4)) (local.get $k16))))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (local.get $h) (local.get $k16)))))
              (local.get $ones)))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $d1 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 3)) (local.get $k16))))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 1)) (local.get $k16)))))
              (local.get $ones)))
            (local.set $v (v128.load offset=32 (local.get $wp)))
            (local.set $d2 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 2)) (local.get $k16))))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 2)) (local.get $k16)))))
              (local.get $ones)))
            (local.set $v (v128.load offset=48 (local.get $wp)))
            (local.set $d3 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.or (v128.and (local.get $v) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 1)) (local.get $k16))))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.or (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 3)) (local.get $k16)))))
              (local.get $ones)))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
            (local.set $d2 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d2) (local.get $d3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d2) (local.get $d3))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $d0) (local.get $d2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $d0) (local.get $d2))))
            (local.set $d0 (i32x4.sub (local.get $d0) (i32x4.splat (i32.shl (i32.load (local.get $xbp)) (i32.const 4)))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $d0))
              (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xsp))))))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (local.set $xbp (i32.add (local.get $xbp) (i32.const 4)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 80)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
            (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
            (br_if $q5 (i32.lt_u (local.get $xsp) (local.get $e)))))
          (else (loop $q4
            (local.set $xl (v128.load (local.get $x)))
            (local.set $xh (v128.load offset=16 (local.get $x)))
            (local.set $v (v128.load offset=0 (local.get $wp)))
            (local.set $d0 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.and (local.get $v) (local.get $k0f)))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (local.get $ones)))
            (local.set $v (v128.load offset=16 (local.get $wp)))
            (local.set $d1 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.and (local.get $v) (local.get $k0f)))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (local.get $ones)))
            (local.set $v (v128.load offset=32 (local.get $wp)))
            (local.set $d2 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.and (local.get $v) (local.get $k0f)))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (local.get $ones)))
            (local.set $v (v128.load offset=48 (local.get $wp)))
            (local.set $d3 (i32x4.dot_i16x8_s (i16x8.add
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xl) (v128.and (local.get $v) (local.get $k0f)))
              (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $xh) (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $k0f))))
              (local.get $ones)))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
            (local.set $d2 (i32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d2) (local.get $d3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d2) (local.get $d3))))
            (local.set $d0 (i32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $d0) (local.get $d2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $d0) (local.get $d2))))
            (local.set $d0 (i32x4.sub (local.get $d0) (i32x4.splat (i32.shl (i32.load (local.get $xbp)) (i32.const 3)))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (f32x4.convert_i32x4_s (local.get $d0))
              (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xsp))))))
            (local.set $x (i32.add (local.get $x) (i32.const 32)))
            (local.set $xbp (i32.add (local.get $xbp) (i32.const 4)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 64)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
            (local.set $xsp (i32.add (local.get $xsp) (i32.const 4)))
            (br_if $q4 (i32.lt_u (local.get $xsp) (local.get $e))))))
        (call $store4 (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $OC)) (local.get $o)) (i32.const 2)))
          (local.get $acc) (local.get $bias) (local.get $o) (local.get $mode) (local.get $b))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $oLoop))))

  ;; out (N, OC) (by mode, $store) = quantize_q8_7 input (xq, xs) . Q4_0 / Q5_0 w^T + bias, columns
  ;; [a, b) (a a multiple of 32), for many input rows: as matmul_q8_i8tiles, each group of 4 rows
  ;; laid into the band with its codes as int8 q - 8 (q - 16) (written out per kind, as the decode
  ;; kernels unpack them) and its scales. C % 32 == 0.
  ;; Reference: the dequantized weights times the dequantized 7-bit input.
  (func (export "matmul_q45_i8tiles")
    (param $out i32) (param $xq i32) (param $xs i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $kind i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $nb i32) (local $G i32) (local $buf i32) (local $ob i32) (local $oe i32) (local $o i32) (local $gp i32)
    (local $g i32) (local $sp i32) (local $blk i32) (local $off v128) (local $h v128) (local $k0f v128) (local $k16 v128)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 5)))
    (local.set $G (i32.add (i32.const 64) (i32.shl (local.get $kind) (i32.const 4))))
    (local.set $off (i8x16.splat (i32.shl (i32.const 8) (local.get $kind))))
    (local.set $k0f (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $k16 (v128.const i8x16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16 16))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $o (local.get $ob))
      (local.set $gp (local.get $buf))
      (local.set $g (i32.add (local.get $w) (i32.mul (i32.mul (i32.shr_u (local.get $ob) (i32.const 2)) (local.get $nb)) (local.get $G))))
      (local.set $sp (i32.add (local.get $ws) (i32.shl (i32.mul (local.get $ob) (local.get $nb)) (i32.const 2))))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $blk (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
          (if (local.get $kind)
            (then
            (local.set $h (v128.load offset=64 (local.get $g)))
            (call $transpose4 (local.get $gp)
              (i8x16.sub (v128.or (v128.and (v128.load offset=0 (local.get $g)) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 4)) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (v128.load offset=16 (local.get $g)) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 3)) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (v128.load offset=32 (local.get $g)) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 2)) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (v128.load offset=48 (local.get $g)) (local.get $k0f)) (v128.and (i16x8.shl (local.get $h) (i32.const 1)) (local.get $k16))) (local.get $off)))
            (call $transpose4 (i32.add (local.get $gp) (i32.const 64))
              (i8x16.sub (v128.or (v128.and (i16x8.shr_u (v128.load offset=0 (local.get $g)) (i32.const 4)) (local.get $k0f)) (v128.and (local.get $h) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (i16x8.shr_u (v128.load offset=16 (local.get $g)) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 1)) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (i16x8.shr_u (v128.load offset=32 (local.get $g)) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 2)) (local.get $k16))) (local.get $off))
              (i8x16.sub (v128.or (v128.and (i16x8.shr_u (v128.load offset=48 (local.get $g)) (i32.const 4)) (local.get $k0f)) (v128.and (i16x8.shr_u (local.get $h) (i32.const 3)) (local.get $k16))) (local.get $off)))
            (local.set $g (i32.add (local.get $g) (i32.const 80))))
            (else
            (call $transpose4 (local.get $gp)
              (i8x16.sub (v128.and (v128.load offset=0 (local.get $g)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (v128.load offset=16 (local.get $g)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (v128.load offset=32 (local.get $g)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (v128.load offset=48 (local.get $g)) (local.get $k0f)) (local.get $off)))
            (call $transpose4 (i32.add (local.get $gp) (i32.const 64))
              (i8x16.sub (v128.and (i16x8.shr_u (v128.load offset=0 (local.get $g)) (i32.const 4)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (i16x8.shr_u (v128.load offset=16 (local.get $g)) (i32.const 4)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (i16x8.shr_u (v128.load offset=32 (local.get $g)) (i32.const 4)) (local.get $k0f)) (local.get $off))
              (i8x16.sub (v128.and (i16x8.shr_u (v128.load offset=48 (local.get $g)) (i32.const 4)) (local.get $k0f)) (local.get $off)))
            (local.set $g (i32.add (local.get $g) (i32.const 64)))))
          (call $bandStart (local.get $gp) (i32.const 0) (i32.const 128) (i32.const 128))
          (v128.store offset=144 (local.get $gp) (v128.load (local.get $sp)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
          (local.set $gp (i32.add (local.get $gp) (i32.const 192)))
          (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
          (br $bLoop)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $gLoop)))
      (call $tilesI8 (local.get $out) (local.get $xq) (local.get $xs) (i32.const 0) (local.get $buf) (local.get $bias)
        (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe) (i32.const 0))
      (local.set $ob (local.get $oe))
      (br $obLoop))))
  ;; @end

  ;; 16 u8 codes q (0..63 or 0..15) as f32 (q + off) * s into dst[0..16): 4 vector stores.
  (func $expand16 (param $dst i32) (param $q v128) (param $off v128) (param $s v128) (param $m v128)
    (local $h v128)
    (local.set $h (i16x8.add (i16x8.extend_low_i8x16_u (local.get $q)) (local.get $off)))
    (v128.store offset=0 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $s)) (local.get $m)))
    (v128.store offset=16 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $s)) (local.get $m)))
    (local.set $h (i16x8.add (i16x8.extend_high_i8x16_u (local.get $q)) (local.get $off)))
    (v128.store offset=32 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $s)) (local.get $m)))
    (v128.store offset=48 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $s)) (local.get $m))))

  ;; One Q4_K row (qs repacked at wp, factors at mp) to C f32 at dst, as dequantizeQ4_K:
  ;; (d sc) q - (dmin m), the products exact, one rounding. 16 bytes per sub-block: low
  ;; nibbles its codes 0..15, high nibbles 16..31.
  (func $expandQ4K (param $dst i32) (param $wp i32) (param $mp i32) (param $nb i32)
    (local $blk i32) (local $s i32) (local $v v128) (local $d1 v128) (local $m1 v128) (local $z v128)
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
      (local.set $s (i32.const 0))
      (block $sDone (loop $sLoop
        (br_if $sDone (i32.ge_u (local.get $s) (i32.const 8)))
        (local.set $d1 (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_u (i32.load8_u offset=8 (i32.add (local.get $mp) (local.get $s)))))))
        (local.set $m1 (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.convert_i32_u (i32.load8_u offset=16 (i32.add (local.get $mp) (local.get $s)))))))
        (local.set $v (v128.load (local.get $wp)))
        (call $expand16 (local.get $dst) (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)) (local.get $z) (local.get $d1) (local.get $m1))
        (call $expand16 (i32.add (local.get $dst) (i32.const 64)) (i8x16.shr_u (local.get $v) (i32.const 4)) (local.get $z) (local.get $d1) (local.get $m1))
        (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $sLoop)))
      (local.set $mp (i32.add (local.get $mp) (i32.const 24)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $bLoop))))

  ;; 8 i16 codes h as f32 h * s - m into dst[0..8): 2 vector stores.
  (func $expand8 (param $dst i32) (param $h v128) (param $s v128) (param $m v128)
    (v128.store offset=0 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $h))) (local.get $s)) (local.get $m)))
    (v128.store offset=16 (local.get $dst) (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $h))) (local.get $s)) (local.get $m))))

  ;; One Q5_K row (packQ5KForward) to C f32 at dst, as dequantizeQ5_K: (d sc) q - (dmin m), one
  ;; rounding. The codes come out of a sub-block's load as in matmul_q5k (lanes a, b, c, d:
  ;; codes 2k, 16 + 2k, 2k + 1, 17 + 2k at scales 1, 16, 256, 1), then a with c and b with d
  ;; interleaved back into order.
  (func $expandQ5K (param $dst i32) (param $wp i32) (param $mp i32) (param $nb i32)
    (local $blk i32) (local $s i32) (local $v v128) (local $t v128) (local $t2 v128) (local $d1 v128) (local $m1 v128)
    (local $qa v128) (local $qb v128) (local $qc v128) (local $qd v128)
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
      (local.set $s (i32.const 0))
      (block $sDone (loop $sLoop
        (br_if $sDone (i32.ge_u (local.get $s) (i32.const 8)))
        (local.set $d1 (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_u (i32.load8_u offset=8 (i32.add (local.get $mp) (local.get $s)))))))
        (local.set $m1 (f32x4.splat (f32.mul (f32.load offset=4 (local.get $mp)) (f32.convert_i32_u (i32.load8_u offset=16 (i32.add (local.get $mp) (local.get $s)))))))
        (local.set $v (v128.load (local.get $wp)))
        (local.set $t (i16x8.mul (v128.load32_splat offset=24 (i32.add (local.get $mp) (i32.shl (local.get $s) (i32.const 2))))
          (v128.const i16x8 8 8 4 4 2 2 1 1)))
        (local.set $t2 (i16x8.shl (local.get $t) (i32.const 1)))
        (local.set $qa (v128.or (v128.and (local.get $v) (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f))
          (v128.and (local.get $t2) (v128.const i16x8 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010))))
        (local.set $qb (i16x8.shr_u (v128.or (v128.and (local.get $v) (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0))
          (v128.and (local.get $t2) (v128.const i16x8 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100 0x0100))) (i32.const 4)))
        (local.set $qc (i16x8.shr_u (v128.or (v128.and (local.get $v) (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00))
          (v128.and (local.get $t2) (v128.const i16x8 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000 0x1000))) (i32.const 8)))
        (local.set $qd (v128.or (i16x8.shr_u (local.get $v) (i32.const 12))
          (v128.and (i16x8.shr_u (local.get $t) (i32.const 11)) (v128.const i16x8 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010 0x0010))))
        (call $expand8 (local.get $dst) (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $qa) (local.get $qc)) (local.get $d1) (local.get $m1))
        (call $expand8 (i32.add (local.get $dst) (i32.const 32)) (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $qa) (local.get $qc)) (local.get $d1) (local.get $m1))
        (call $expand8 (i32.add (local.get $dst) (i32.const 64)) (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $qb) (local.get $qd)) (local.get $d1) (local.get $m1))
        (call $expand8 (i32.add (local.get $dst) (i32.const 96)) (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $qb) (local.get $qd)) (local.get $d1) (local.get $m1))
        (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $sLoop)))
      (local.set $mp (i32.add (local.get $mp) (i32.const 56)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $bLoop))))

  ;; One Q6_K row (ql | qh at wp, factors at mp) to C f32 at dst, as dequantizeQ6_K:
  ;; (d sc) (q - 32), one rounding. Per half h and l = 0, 16 the four quarters k: low nibbles
  ;; of ql[l..] | qh bits 0-1, low of ql[l + 32..] | bits 2-3, high of ql[l..] | bits 4-5, high
  ;; of ql[l + 32..] | bits 6-7; the group 8h + 2k + l/16 has its scale at swap02 of that.
  (func $expandQ6K (param $dst i32) (param $wp i32) (param $mp i32) (param $nb i32)
    (local $blk i32) (local $h i32) (local $l i32) (local $qp i32) (local $g i32) (local $at i32)
    (local $v1 v128) (local $v2 v128) (local $hv v128) (local $z v128) (local $off v128) (local $lo v128)
    (local.set $off (v128.const i16x8 -32 -32 -32 -32 -32 -32 -32 -32))
    (local.set $lo (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $blk) (local.get $nb)))
      (local.set $h (i32.const 0))
      (block $hDone (loop $hLoop
        (br_if $hDone (i32.ge_u (local.get $h) (i32.const 2)))
        (local.set $l (i32.const 0))
        (block $lDone (loop $lLoop
          (br_if $lDone (i32.ge_u (local.get $l) (i32.const 32)))
          (local.set $qp (i32.add (i32.add (local.get $wp) (i32.shl (local.get $h) (i32.const 6))) (local.get $l)))
          (local.set $v1 (v128.load (local.get $qp)))
          (local.set $v2 (v128.load offset=32 (local.get $qp)))
          (local.set $hv (v128.load offset=128 (i32.add (i32.add (local.get $wp) (i32.shl (local.get $h) (i32.const 5))) (local.get $l))))
          (local.set $at (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (local.get $h) (i32.const 7)) (local.get $l)) (i32.const 2))))
          (local.set $g (i32.add (i32.shl (local.get $h) (i32.const 3)) (i32.shr_u (local.get $l) (i32.const 4))))
          (call $expand16 (i32.add (local.get $at) (i32.const 0))
            (v128.or (v128.and (local.get $v1) (local.get $lo)) (i8x16.shl (v128.and (local.get $hv) (v128.const i8x16 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3)) (i32.const 4)))
            (local.get $off)
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_s (i32.load8_s offset=4
              (i32.add (local.get $mp) (call $swap02 (i32.add (local.get $g) (i32.const 0))))))))
            (local.get $z))
          (call $expand16 (i32.add (local.get $at) (i32.const 128))
            (v128.or (v128.and (local.get $v2) (local.get $lo)) (i8x16.shl (v128.and (local.get $hv) (v128.const i8x16 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12 12)) (i32.const 2)))
            (local.get $off)
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_s (i32.load8_s offset=4
              (i32.add (local.get $mp) (call $swap02 (i32.add (local.get $g) (i32.const 2))))))))
            (local.get $z))
          (call $expand16 (i32.add (local.get $at) (i32.const 256))
            (v128.or (i8x16.shr_u (local.get $v1) (i32.const 4)) (v128.and (local.get $hv) (v128.const i8x16 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48)))
            (local.get $off)
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_s (i32.load8_s offset=4
              (i32.add (local.get $mp) (call $swap02 (i32.add (local.get $g) (i32.const 4))))))))
            (local.get $z))
          (call $expand16 (i32.add (local.get $at) (i32.const 384))
            (v128.or (i8x16.shr_u (local.get $v2) (i32.const 4)) (i8x16.shr_u (v128.and (local.get $hv) (v128.const i8x16 192 192 192 192 192 192 192 192 192 192 192 192 192 192 192 192)) (i32.const 2)))
            (local.get $off)
            (f32x4.splat (f32.mul (f32.load (local.get $mp)) (f32.convert_i32_s (i32.load8_s offset=4
              (i32.add (local.get $mp) (call $swap02 (i32.add (local.get $g) (i32.const 6))))))))
            (local.get $z))
          (local.set $l (i32.add (local.get $l) (i32.const 16)))
          (br $lLoop)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      (local.set $wp (i32.add (local.get $wp) (i32.const 192)))
      (local.set $mp (i32.add (local.get $mp) (i32.const 20)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1024)))
      (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
      (br $bLoop))))

  ;; out (N, OC) (by mode, $store) = inp (N, C) f32 . K-quant w expanded to f32 (as the
  ;; format's dequantizer) ^T + bias, columns [a, b) (a a multiple of 32), for many input rows
  ;; (prefill): blocks of 32 rows into this thread's scratch (32 C floats at scratch + tid 128 C),
  ;; then matmul_f32's tiles. kind 0: Q4_K (packQ4KForward), 1: Q6_K (packQ6KForward), 2: Q5_K
  ;; (packQ5KForward).
  (func (export "matmul_qk_f32")
    (param $out i32) (param $inp i32) (param $w i32) (param $ws i32) (param $bias i32) (param $scratch i32)
    (param $N i32) (param $C i32) (param $OC i32) (param $mode i32) (param $kind i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $ob i32) (local $oe i32) (local $buf i32) (local $o i32) (local $nb i32) (local $dst i32)
    (local.set $nb (i32.shr_u (local.get $C) (i32.const 8)))
    (local.set $buf (i32.add (local.get $scratch) (i32.mul (local.get $tid) (i32.shl (local.get $C) (i32.const 7)))))
    (local.set $ob (local.get $a))
    (block $obDone (loop $obLoop
      (br_if $obDone (i32.ge_u (local.get $ob) (local.get $b)))
      (local.set $oe (select (local.get $b) (i32.add (local.get $ob) (i32.const 32))
        (i32.lt_u (local.get $b) (i32.add (local.get $ob) (i32.const 32)))))
      (local.set $o (local.get $ob))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $o) (local.get $oe)))
        (local.set $dst (i32.add (local.get $buf) (i32.shl (i32.mul (i32.sub (local.get $o) (local.get $ob)) (local.get $C)) (i32.const 2))))
        (if (i32.eqz (local.get $kind))
          (then (call $expandQ4K (local.get $dst)
            (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1))))
            (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 24))) (local.get $nb)))
          (else (if (i32.eq (local.get $kind) (i32.const 2))
          (then (call $expandQ5K (local.get $dst)
            (i32.add (local.get $w) (i32.mul (local.get $o) (i32.shr_u (local.get $C) (i32.const 1))))
            (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 56))) (local.get $nb)))
          (else (call $expandQ6K (local.get $dst)
            (i32.add (local.get $w) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 192)))
            (i32.add (local.get $ws) (i32.mul (i32.mul (local.get $o) (local.get $nb)) (i32.const 20))) (local.get $nb))))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $rLoop)))
      (call $matmul_f32 (local.get $out) (local.get $inp)
        (i32.sub (local.get $buf) (i32.shl (i32.mul (local.get $ob) (local.get $C)) (i32.const 2)))
        (local.get $bias) (local.get $N) (local.get $C) (local.get $OC) (local.get $mode) (local.get $ob) (local.get $oe))
      (local.set $ob (local.get $oe))
      (br $obLoop))))

  ;; y += s * x over n floats.
  (func $axpy (param $y i32) (param $s f32) (param $x i32) (param $n i32) (param $half i32)
    (local $i i32) (local $e i32) (local $sv v128)
    (if (local.get $half) (then
      ;; x in f16: one element at a time (only the keys past the last 4 of a block come here).
      (block $hd (loop $hl
        (br_if $hd (i32.ge_u (local.get $i) (local.get $n)))
        (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (f32.add
          (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))
          (f32.mul (local.get $s) (call $f16 (i32.load16_s (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 1))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $hl)))
      (return)))
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $e (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $e)))
      (v128.store (i32.add (local.get $y) (local.get $i)) (f32x4.add
        (v128.load (i32.add (local.get $y) (local.get $i)))
        (f32x4.mul (local.get $sv) (v128.load (i32.add (local.get $x) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
    (local.set $e (i32.shl (local.get $n) (i32.const 2)))
    (block $done2 (loop $l2
      (br_if $done2 (i32.ge_u (local.get $i) (local.get $e)))
      (f32.store (i32.add (local.get $y) (local.get $i)) (f32.add
        (f32.load (i32.add (local.get $y) (local.get $i)))
        (f32.mul (local.get $s) (f32.load (i32.add (local.get $x) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l2))))

  ;; Causal attention of T new queries over the KV cache (KVH, ctx, HD). The G = NH / KVH query
  ;; heads that share a key/value head go together: work item (t * KVH + g) * parts + part takes
  ;; heads [h0, h1) of group g, the group cut into `parts` runs of ceil(G / parts) heads. Keys go
  ;; in blocks of 64, and a block serves every head of the item while it is in cache (one query
  ;; head per item read the whole cache G times over when decoding a GQA model). Per head an
  ;; online softmax: the block's scores are kept, the head's running max m and sum l rescale its
  ;; accumulator when the max grows. scratch: attentionScratchBytes(HD, G) per thread. With
  ;; $half the cache holds f16 (half the bytes a key streams at long contexts), widened exactly
  ;; to f32 as it is read.
  (func (export "attention")
    (param $out i32) (param $qkv i32) (param $kc i32) (param $vc i32) (param $scratch i32)
    (param $pos i32) (param $NH i32) (param $KVH i32) (param $HD i32) (param $ctx i32)
    (param $qkvStride i32) (param $window i32) (param $half i32) (param $parts i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $item i32) (local $tg i32) (local $t i32) (local $g i32) (local $G i32) (local $per i32) (local $h0 i32) (local $h1 i32) (local $h i32)
    (local $p i32) (local $first i32) (local $q i32) (local $kv i32) (local $accs i32) (local $mls i32) (local $acc i32) (local $ml i32)
    (local $sc i32) (local $j0 i32) (local $j1 i32) (local $j i32)
    (local $HDB i32) (local $KB i32) (local $dh i32) (local $scale f32) (local $s f32) (local $bm f64) (local $m f64) (local $l f64) (local $f f64) (local $e f64)
    (local $d i32) (local $o i32) (local $k i32) (local $kend i32) (local $mv v128) (local $lv v128) (local $ev v128)
    (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $qv v128) (local $mx v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local.set $HDB (i32.shl (local.get $HD) (i32.const 2)))
    ;; Bytes of a cached key or value row: f32, or f16 with $half.
    (local.set $KB (i32.shl (local.get $HD) (select (i32.const 1) (i32.const 2) (local.get $half))))
    (local.set $G (i32.div_u (local.get $NH) (local.get $KVH)))
    (local.set $per (i32.div_u (i32.sub (i32.add (local.get $G) (local.get $parts)) (i32.const 1)) (local.get $parts)))
    ;; This thread's scratch: G accumulators of HD floats, G (m, l) pairs in float64, 64 scores.
    (local.set $accs (i32.add (local.get $scratch) (i32.mul (local.get $tid)
      (i32.add (i32.mul (local.get $G) (i32.add (local.get $HDB) (i32.const 16))) (i32.const 256)))))
    (local.set $mls (i32.add (local.get $accs) (i32.mul (local.get $G) (local.get $HDB))))
    (local.set $sc (i32.add (local.get $mls) (i32.shl (local.get $G) (i32.const 4))))
    (local.set $scale (f32.div (f32.const 1) (f32.sqrt (f32.convert_i32_u (local.get $HD)))))
    (local.set $item (local.get $a))
    (block $itemDone (loop $itemLoop
      (br_if $itemDone (i32.ge_u (local.get $item) (local.get $b)))
      (local.set $tg (i32.div_u (local.get $item) (local.get $parts)))
      (local.set $t (i32.div_u (local.get $tg) (local.get $KVH)))
      (local.set $g (i32.rem_u (local.get $tg) (local.get $KVH)))
      (local.set $h0 (i32.add (i32.mul (local.get $g) (local.get $G)) (i32.mul (i32.rem_u (local.get $item) (local.get $parts)) (local.get $per))))
      (local.set $h1 (i32.add (local.get $h0) (local.get $per)))
      (if (i32.gt_u (local.get $h1) (i32.mul (i32.add (local.get $g) (i32.const 1)) (local.get $G))) (then
        (local.set $h1 (i32.mul (i32.add (local.get $g) (i32.const 1)) (local.get $G)))))
      ;; The last part of a group cut unevenly may hold no head.
      (block $itemEmpty
      (br_if $itemEmpty (i32.ge_u (local.get $h0) (local.get $h1)))
      (local.set $p (i32.add (local.get $pos) (local.get $t)))
      (local.set $first (i32.const 0))
      (if (i32.and (i32.ne (local.get $window) (i32.const 0)) (i32.ge_s (i32.sub (local.get $p) (local.get $window)) (i32.const 0))) (then
        (local.set $first (i32.add (i32.sub (local.get $p) (local.get $window)) (i32.const 1)))))
      (local.set $kv (i32.mul (i32.mul (local.get $g) (local.get $ctx)) (local.get $KB)))
      (memory.fill (local.get $accs) (i32.const 0) (i32.mul (i32.sub (local.get $h1) (local.get $h0)) (local.get $HDB)))
      (local.set $ml (local.get $mls))
      (local.set $h (local.get $h0))
      (block $initDone (loop $initLoop
        (br_if $initDone (i32.ge_u (local.get $h) (local.get $h1)))
        (f64.store (local.get $ml) (f64.const -inf))
        (f64.store offset=8 (local.get $ml) (f64.const 0))
        (local.set $ml (i32.add (local.get $ml) (i32.const 16)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $initLoop)))
      (local.set $j0 (local.get $first))
      (block $blkDone (loop $blkLoop
        (br_if $blkDone (i32.gt_s (local.get $j0) (local.get $p)))
        (local.set $j1 (i32.add (local.get $j0) (i32.const 64)))
        (if (i32.gt_s (local.get $j1) (i32.add (local.get $p) (i32.const 1))) (then (local.set $j1 (i32.add (local.get $p) (i32.const 1)))))
        (local.set $h (local.get $h0))
        (local.set $acc (local.get $accs))
        (local.set $ml (local.get $mls))
        (block $headDone (loop $headLoop
        (br_if $headDone (i32.ge_u (local.get $h) (local.get $h1)))
        (local.set $q (i32.add (local.get $qkv) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $qkvStride)) (i32.mul (local.get $h) (local.get $HD))) (i32.const 2))))
        (local.set $m (f64.load (local.get $ml)))
        (local.set $l (f64.load offset=8 (local.get $ml)))
        (local.set $bm (f64.const -inf))
        (local.set $j (local.get $j0))
        ;; Scores of 4 keys at a time (HD % 4 == 0): each load of q serves 4 keys, and the 4
        ;; dots come out in one vector (key k in lane k). The keys left go one at a time.
        (if (i32.eqz (i32.and (local.get $HD) (i32.const 3))) (then
          (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))
          (block $s4Done (loop $s4Loop
            (br_if $s4Done (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
            (local.set $k0 (i32.add (local.get $kc) (i32.add (local.get $kv) (i32.mul (local.get $j) (local.get $KB)))))
            (local.set $k1 (i32.add (local.get $k0) (local.get $KB)))
            (local.set $k2 (i32.add (local.get $k1) (local.get $KB)))
            (local.set $k3 (i32.add (local.get $k2) (local.get $KB)))
            (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $s2 (v128.const i32x4 0 0 0 0)) (local.set $s3 (v128.const i32x4 0 0 0 0))
            (local.set $d (i32.const 0))
            ;; The cache's format is chosen outside the loop over the head width.
            (if (local.get $half)
              (then
                (block $dhDone (loop $dhLoop
                  (br_if $dhDone (i32.ge_u (local.get $d) (local.get $HDB)))
                  (local.set $qv (v128.load (i32.add (local.get $q) (local.get $d))))
                  (local.set $dh (i32.shr_u (local.get $d) (i32.const 1)))
                  (local.set $s0 (f32x4.madd (local.get $qv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k0) (local.get $dh)))) (local.get $s0)))
                  (local.set $s1 (f32x4.madd (local.get $qv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k1) (local.get $dh)))) (local.get $s1)))
                  (local.set $s2 (f32x4.madd (local.get $qv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k2) (local.get $dh)))) (local.get $s2)))
                  (local.set $s3 (f32x4.madd (local.get $qv) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k3) (local.get $dh)))) (local.get $s3)))
                  (local.set $d (i32.add (local.get $d) (i32.const 16)))
                  (br $dhLoop))))
              (else
                (block $dDone (loop $dLoop
                  (br_if $dDone (i32.ge_u (local.get $d) (local.get $HDB)))
                  (local.set $qv (v128.load (i32.add (local.get $q) (local.get $d))))
                  (local.set $s0 (f32x4.madd (local.get $qv) (v128.load (i32.add (local.get $k0) (local.get $d))) (local.get $s0)))
                  (local.set $s1 (f32x4.madd (local.get $qv) (v128.load (i32.add (local.get $k1) (local.get $d))) (local.get $s1)))
                  (local.set $s2 (f32x4.madd (local.get $qv) (v128.load (i32.add (local.get $k2) (local.get $d))) (local.get $s2)))
                  (local.set $s3 (f32x4.madd (local.get $qv) (v128.load (i32.add (local.get $k3) (local.get $d))) (local.get $s3)))
                  (local.set $d (i32.add (local.get $d) (i32.const 16)))
                  (br $dLoop)))))
            (local.set $s0 (f32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s0) (local.get $s1))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s0) (local.get $s1))))
            (local.set $s2 (f32x4.add
              (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s2) (local.get $s3))
              (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s2) (local.get $s3))))
            (local.set $s0 (f32x4.mul (f32x4.splat (local.get $scale)) (f32x4.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s0) (local.get $s2))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s0) (local.get $s2)))))
            (v128.store (i32.add (local.get $sc) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 2))) (local.get $s0))
            (local.set $mx (f32x4.max (local.get $mx) (local.get $s0)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $s4Loop)))
          (local.set $bm (f64.promote_f32 (f32.max
            (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
            (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx))))))))
        (block $sDone (loop $sLoop
          (br_if $sDone (i32.ge_s (local.get $j) (local.get $j1)))
          (local.set $s (f32.mul (local.get $scale)
            (if (result f32) (local.get $half)
              (then (call $dotF16 (local.get $q) (i32.add (local.get $kc) (i32.add (local.get $kv) (i32.mul (local.get $j) (local.get $KB)))) (local.get $HD)))
              (else (call $dot (local.get $q) (i32.add (local.get $kc) (i32.add (local.get $kv) (i32.mul (local.get $j) (local.get $KB)))) (local.get $HD))))))
          (f32.store (i32.add (local.get $sc) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 2))) (local.get $s))
          (local.set $bm (f64.max (local.get $bm) (f64.promote_f32 (local.get $s))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $sLoop)))
        (if (f64.gt (local.get $bm) (local.get $m)) (then
          (local.set $f (call $exp (f64.sub (local.get $m) (local.get $bm))))
          (local.set $l (f64.mul (local.get $l) (local.get $f)))
          (local.set $d (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $d) (local.get $HDB)))
            (f32.store (i32.add (local.get $acc) (local.get $d))
              (f32.mul (f32.load (i32.add (local.get $acc) (local.get $d))) (f32.demote_f64 (local.get $f))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $rLoop)))
          (local.set $m (local.get $bm))))
        ;; The block's weights e^(s - m), four at a time in f32, written over its scores; the
        ;; 1 to 3 left in float64; then V accumulated with them.
        (local.set $mv (f32x4.splat (f32.demote_f64 (local.get $m))))
        (local.set $lv (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (local.set $kend (i32.shl (i32.and (i32.sub (local.get $j1) (local.get $j0)) (i32.const -4)) (i32.const 2)))
        (block $eDone (loop $eLoop
          (br_if $eDone (i32.ge_u (local.get $k) (local.get $kend)))
          (local.set $ev (call $exp4 (f32x4.sub (v128.load (i32.add (local.get $sc) (local.get $k))) (local.get $mv))))
          (v128.store (i32.add (local.get $sc) (local.get $k)) (local.get $ev))
          (local.set $lv (f32x4.add (local.get $lv) (local.get $ev)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $eLoop)))
        (local.set $l (f64.add (local.get $l) (f64.promote_f32 (call $hsum (local.get $lv)))))
        (local.set $kend (i32.shl (i32.sub (local.get $j1) (local.get $j0)) (i32.const 2)))
        (block $tDone (loop $tLoop
          (br_if $tDone (i32.ge_u (local.get $k) (local.get $kend)))
          (local.set $e (call $exp (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $sc) (local.get $k)))) (local.get $m))))
          (f32.store (i32.add (local.get $sc) (local.get $k)) (f32.demote_f64 (local.get $e)))
          (local.set $l (f64.add (local.get $l) (local.get $e)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $tLoop)))
        (local.set $j (local.get $j0))
        ;; V rows 4 at a time (HD % 4 == 0): the accumulator is loaded and stored once per 4 keys.
        (if (i32.eqz (i32.and (local.get $HD) (i32.const 3))) (then
          (block $v4Done (loop $v4Loop
            (br_if $v4Done (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
            (local.set $ev (v128.load (i32.add (local.get $sc) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 2)))))
            (local.set $e0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $ev) (local.get $ev)))
            (local.set $e1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $ev) (local.get $ev)))
            (local.set $e2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $ev) (local.get $ev)))
            (local.set $e3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $ev) (local.get $ev)))
            (local.set $k0 (i32.add (local.get $vc) (i32.add (local.get $kv) (i32.mul (local.get $j) (local.get $KB)))))
            (local.set $k1 (i32.add (local.get $k0) (local.get $KB)))
            (local.set $k2 (i32.add (local.get $k1) (local.get $KB)))
            (local.set $k3 (i32.add (local.get $k2) (local.get $KB)))
            (local.set $d (i32.const 0))
            (if (local.get $half)
              (then
                (block $adhDone (loop $adhLoop
                  (br_if $adhDone (i32.ge_u (local.get $d) (local.get $HDB)))
                  (local.set $dh (i32.shr_u (local.get $d) (i32.const 1)))
                  (v128.store (i32.add (local.get $acc) (local.get $d))
                    (f32x4.madd (local.get $e3) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k3) (local.get $dh))))
                      (f32x4.madd (local.get $e2) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k2) (local.get $dh))))
                        (f32x4.madd (local.get $e1) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k1) (local.get $dh))))
                          (f32x4.madd (local.get $e0) (f32x4.from_f16 (v128.load16x4_s (i32.add (local.get $k0) (local.get $dh))))
                            (v128.load (i32.add (local.get $acc) (local.get $d))))))))
                  (local.set $d (i32.add (local.get $d) (i32.const 16)))
                  (br $adhLoop))))
              (else
                (block $adDone (loop $adLoop
                  (br_if $adDone (i32.ge_u (local.get $d) (local.get $HDB)))
                  (v128.store (i32.add (local.get $acc) (local.get $d))
                    (f32x4.madd (local.get $e3) (v128.load (i32.add (local.get $k3) (local.get $d)))
                      (f32x4.madd (local.get $e2) (v128.load (i32.add (local.get $k2) (local.get $d)))
                        (f32x4.madd (local.get $e1) (v128.load (i32.add (local.get $k1) (local.get $d)))
                          (f32x4.madd (local.get $e0) (v128.load (i32.add (local.get $k0) (local.get $d)))
                            (v128.load (i32.add (local.get $acc) (local.get $d))))))))
                  (local.set $d (i32.add (local.get $d) (i32.const 16)))
                  (br $adLoop)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v4Loop)))))
        (block $vDone (loop $vLoop
          (br_if $vDone (i32.ge_s (local.get $j) (local.get $j1)))
          (call $axpy (local.get $acc) (f32.load (i32.add (local.get $sc) (i32.shl (i32.sub (local.get $j) (local.get $j0)) (i32.const 2))))
            (i32.add (local.get $vc) (i32.add (local.get $kv) (i32.mul (local.get $j) (local.get $KB)))) (local.get $HD) (local.get $half))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $vLoop)))
        (f64.store (local.get $ml) (local.get $m))
        (f64.store offset=8 (local.get $ml) (local.get $l))
        (local.set $acc (i32.add (local.get $acc) (local.get $HDB)))
        (local.set $ml (i32.add (local.get $ml) (i32.const 16)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $headLoop)))
        (local.set $j0 (local.get $j1))
        (br $blkLoop)))
      (local.set $acc (local.get $accs))
      (local.set $ml (local.get $mls))
      (local.set $h (local.get $h0))
      (block $hoDone (loop $hoLoop
        (br_if $hoDone (i32.ge_u (local.get $h) (local.get $h1)))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (i32.add (i32.mul (local.get $t) (local.get $NH)) (local.get $h)) (local.get $HD)) (i32.const 2))))
        (local.set $s (f32.demote_f64 (f64.div (f64.const 1) (f64.load offset=8 (local.get $ml)))))
        (local.set $d (i32.const 0))
        (block $wDone (loop $wLoop
          (br_if $wDone (i32.ge_u (local.get $d) (local.get $HDB)))
          (f32.store (i32.add (local.get $o) (local.get $d)) (f32.mul (f32.load (i32.add (local.get $acc) (local.get $d))) (local.get $s)))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br $wLoop)))
        (local.set $acc (i32.add (local.get $acc) (local.get $HDB)))
        (local.set $ml (i32.add (local.get $ml) (i32.const 16)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hoLoop))))
      (local.set $item (i32.add (local.get $item) (i32.const 1)))
      (br $itemLoop))))

  ;; SwiGLU of rows [a, b): out (N, FF) = silu(gate) * up, inp (N, 2 FF) holding [gate | up] per
  ;; row, silu(g) = g / (1 + e^-g). Four at a time through exp4 (f32, relative error below 3e-7),
  ;; the last FF % 4 in float64 as swigluForward.
  (func (export "swiglu") (param $out i32) (param $inp i32) (param $FF i32) (param $a i32) (param $b i32)
    (local $r i32) (local $g i32) (local $u i32) (local $o i32) (local $i i32) (local $e4 i32) (local $e i32)
    (local $gv v128) (local $x f64)
    (local.set $e4 (i32.shl (i32.and (local.get $FF) (i32.const -4)) (i32.const 2)))
    (local.set $e (i32.shl (local.get $FF) (i32.const 2)))
    (local.set $r (local.get $a))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $b)))
      (local.set $g (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $r) (local.get $FF)) (i32.const 3))))
      (local.set $u (i32.add (local.get $g) (local.get $e)))
      (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $e))))
      (local.set $i (i32.const 0))
      (block $vDone (loop $v
        (br_if $vDone (i32.ge_u (local.get $i) (local.get $e4)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
        (v128.store (i32.add (local.get $o) (local.get $i))
          (f32x4.mul
            (f32x4.div (local.get $gv) (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (f32x4.neg (local.get $gv)))))
            (v128.load (i32.add (local.get $u) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $v)))
      (block $sDone (loop $s
        (br_if $sDone (i32.ge_u (local.get $i) (local.get $e)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $i)))))
        (f32.store (i32.add (local.get $o) (local.get $i)) (f32.demote_f64 (f64.mul
          (f64.div (local.get $x) (f64.add (f64.const 1) (call $exp (f64.neg (local.get $x)))))
          (f64.promote_f32 (f32.load (i32.add (local.get $u) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $s)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; Rows [a, b) of inp (N, C) normalised into out: LayerNorm ((x - mean) / sqrt(var + eps) * w
  ;; + bias, bias 0 meaning none) or, with rms = 1, RMSNorm (x / sqrt(mean(x^2) + eps) * w).
  ;; eps comes as its float32 bits (pool arguments are i32). float64 throughout as in
  ;; normForward, the sums in 4 running parts (a single chain of float64 adds made the row
  ;; latency-bound): results within float32 rounding of the reference's.
  (func (export "norm")
    (param $out i32) (param $inp i32) (param $w i32) (param $bias i32) (param $C i32) (param $epsBits i32) (param $rms i32)
    (param $a i32) (param $b i32)
    (local $n i32) (local $x i32) (local $o i32) (local $i i32) (local $e i32) (local $e4 i32) (local $p i32)
    (local $m f64) (local $v f64) (local $t f64) (local $s f64) (local $m0 f64) (local $m1 f64) (local $m2 f64) (local $m3 f64)
    (local.set $e (i32.shl (local.get $C) (i32.const 2)))
    (local.set $e4 (i32.shl (i32.and (local.get $C) (i32.const -4)) (i32.const 2)))
    (local.set $n (local.get $a))
    (block $nDone (loop $nLoop
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $b)))
      (local.set $x (i32.add (local.get $inp) (i32.mul (local.get $n) (local.get $e))))
      (local.set $o (i32.add (local.get $out) (i32.mul (local.get $n) (local.get $e))))
      (local.set $m (f64.const 0))
      (if (i32.eqz (local.get $rms)) (then
        (local.set $m0 (f64.const 0)) (local.set $m1 (f64.const 0)) (local.set $m2 (f64.const 0)) (local.set $m3 (f64.const 0))
        (local.set $i (i32.const 0))
        (block $d0 (loop $l0
          (br_if $d0 (i32.ge_u (local.get $i) (local.get $e4)))
          (local.set $p (i32.add (local.get $x) (local.get $i)))
          (local.set $m0 (f64.add (local.get $m0) (f64.promote_f32 (f32.load (local.get $p)))))
          (local.set $m1 (f64.add (local.get $m1) (f64.promote_f32 (f32.load offset=4 (local.get $p)))))
          (local.set $m2 (f64.add (local.get $m2) (f64.promote_f32 (f32.load offset=8 (local.get $p)))))
          (local.set $m3 (f64.add (local.get $m3) (f64.promote_f32 (f32.load offset=12 (local.get $p)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $l0)))
        (local.set $m (f64.add (f64.add (local.get $m0) (local.get $m1)) (f64.add (local.get $m2) (local.get $m3))))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $i) (local.get $e)))
          (local.set $m (f64.add (local.get $m) (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i))))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $l1)))
        (local.set $m (f64.div (local.get $m) (f64.convert_i32_u (local.get $C))))))
      (local.set $m0 (f64.const 0)) (local.set $m1 (f64.const 0)) (local.set $m2 (f64.const 0)) (local.set $m3 (f64.const 0))
      (local.set $i (i32.const 0))
      (block $d4 (loop $l4
        (br_if $d4 (i32.ge_u (local.get $i) (local.get $e4)))
        (local.set $p (i32.add (local.get $x) (local.get $i)))
        (local.set $t (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $m)))
        (local.set $m0 (f64.add (local.get $m0) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.sub (f64.promote_f32 (f32.load offset=4 (local.get $p))) (local.get $m)))
        (local.set $m1 (f64.add (local.get $m1) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.sub (f64.promote_f32 (f32.load offset=8 (local.get $p))) (local.get $m)))
        (local.set $m2 (f64.add (local.get $m2) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.sub (f64.promote_f32 (f32.load offset=12 (local.get $p))) (local.get $m)))
        (local.set $m3 (f64.add (local.get $m3) (f64.mul (local.get $t) (local.get $t))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l4)))
      (local.set $v (f64.add (f64.add (local.get $m0) (local.get $m1)) (f64.add (local.get $m2) (local.get $m3))))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $i) (local.get $e)))
        (local.set $t (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i)))) (local.get $m)))
        (local.set $v (f64.add (local.get $v) (f64.mul (local.get $t) (local.get $t))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l2)))
      (local.set $s (f64.div (f64.const 1) (f64.sqrt (f64.add
        (f64.div (local.get $v) (f64.convert_i32_u (local.get $C))) (f64.promote_f32 (f32.reinterpret_i32 (local.get $epsBits)))))))
      (local.set $i (i32.const 0))
      (block $d3 (loop $l3
        (br_if $d3 (i32.ge_u (local.get $i) (local.get $e)))
        (local.set $t (f64.mul (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i)))) (local.get $m)) (local.get $s))
          (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $i))))))
        (if (local.get $bias) (then (local.set $t (f64.add (local.get $t) (f64.promote_f32 (f32.load (i32.add (local.get $bias) (local.get $i))))))))
        (f32.store (i32.add (local.get $o) (local.get $i)) (f32.demote_f64 (local.get $t)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l3)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nLoop))))

  ;; Benchmark probes (tools/bench): a read stream over floats [a, b) of x, its sum left in
  ;; out[tid] so the loads cannot be dropped; and register-only f32x4 multiply-adds, 8
  ;; independent chains (64 flops per iteration), for the machine's peak arithmetic rate.
  (func (export "stream_sum") (param $out i32) (param $x i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $p i32) (local $e i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $p (i32.add (local.get $x) (i32.shl (local.get $a) (i32.const 2))))
    (local.set $e (i32.add (local.get $x) (i32.shl (local.get $b) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $e)))
      (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $p))))
      (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $p))))
      (local.set $s2 (f32x4.add (local.get $s2) (v128.load offset=32 (local.get $p))))
      (local.set $s3 (f32x4.add (local.get $s3) (v128.load offset=48 (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $l)))
    (f32.store (i32.add (local.get $out) (i32.shl (local.get $tid) (i32.const 2)))
      (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))))

;; GGUF Q8_0 rows (34-byte blocks: f16 scale, 32 int8) at $src, in file order, to packQ8Forward's
  ;; layout at $dst: for the groups of 4 rows [a, b), block by block, each row's 32 int8 side by
  ;; side; rows past $rows zero-filled. The scales (one f16 a block) are widened by the caller.
  (func (export "pack_q8_0") (param $dst i32) (param $src i32) (param $rows i32) (param $nb i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $g i32) (local $blk i32) (local $r i32) (local $o i32) (local $s i32) (local $d i32)
    (local.set $g (local.get $a))
    (block $gd (loop $gl
      (br_if $gd (i32.ge_u (local.get $g) (local.get $b)))
      (local.set $blk (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $blk) (local.get $nb)))
        (local.set $r (i32.const 0))
        (block $rd (loop $rl
          (br_if $rd (i32.ge_u (local.get $r) (i32.const 4)))
          (local.set $o (i32.add (i32.shl (local.get $g) (i32.const 2)) (local.get $r)))
          (local.set $d (i32.add (local.get $dst)
            (i32.shl (i32.add (i32.shl (i32.add (i32.mul (local.get $g) (local.get $nb)) (local.get $blk)) (i32.const 2)) (local.get $r)) (i32.const 5))))
          (if (i32.lt_u (local.get $o) (local.get $rows))
            (then
              (local.set $s (i32.add (local.get $src)
                (i32.add (i32.mul (i32.add (i32.mul (local.get $o) (local.get $nb)) (local.get $blk)) (i32.const 34)) (i32.const 2))))
              (v128.store (local.get $d) (v128.load (local.get $s)))
              (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s))))
            (else
              (v128.store (local.get $d) (v128.const i32x4 0 0 0 0))
              (v128.store offset=16 (local.get $d) (v128.const i32x4 0 0 0 0))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rl)))
        (local.set $blk (i32.add (local.get $blk) (i32.const 1)))
        (br $bl)))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $gl))))

  ;; One store in each 4 KiB page of the 64 KiB units [a, b) after byte offset $base: the first
  ;; touch of fresh memory (a page fault that zero-fills the page, several microseconds each in a
  ;; virtual machine) split over the pool's threads before the main thread packs the weights.
  (func (export "touch_pages") (param $base i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $p i32) (local $e i32)
    (local.set $p (i32.add (local.get $base) (i32.shl (local.get $a) (i32.const 16))))
    (local.set $e (i32.add (local.get $base) (i32.shl (local.get $b) (i32.const 16))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $e)))
      (i64.store (local.get $p) (i64.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 4096)))
      (br $l))))

  (func (export "flops") (param $out i32) (param $a i32) (param $b i32) (param $tid i32)
    (local $i i32) (local $m v128) (local $c v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local.set $m (f32x4.splat (f32.const 0.999999)))
    (local.set $c (f32x4.splat (f32.const 1e-7)))
    (local.set $i (local.get $a))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $b)))
      (local.set $r0 (f32x4.add (f32x4.mul (local.get $r0) (local.get $m)) (local.get $c)))
      (local.set $r1 (f32x4.add (f32x4.mul (local.get $r1) (local.get $m)) (local.get $c)))
      (local.set $r2 (f32x4.add (f32x4.mul (local.get $r2) (local.get $m)) (local.get $c)))
      (local.set $r3 (f32x4.add (f32x4.mul (local.get $r3) (local.get $m)) (local.get $c)))
      (local.set $r4 (f32x4.add (f32x4.mul (local.get $r4) (local.get $m)) (local.get $c)))
      (local.set $r5 (f32x4.add (f32x4.mul (local.get $r5) (local.get $m)) (local.get $c)))
      (local.set $r6 (f32x4.add (f32x4.mul (local.get $r6) (local.get $m)) (local.get $c)))
      (local.set $r7 (f32x4.add (f32x4.mul (local.get $r7) (local.get $m)) (local.get $c)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (f32.store (i32.add (local.get $out) (i32.shl (local.get $tid) (i32.const 2)))
      (call $hsum (f32x4.add
        (f32x4.add (f32x4.add (local.get $r0) (local.get $r1)) (f32x4.add (local.get $r2) (local.get $r3)))
        (f32x4.add (f32x4.add (local.get $r4) (local.get $r5)) (f32x4.add (local.get $r6) (local.get $r7)))))))
)
