;; Training's matrix products in WebAssembly SIMD (f32x4), assembled at build time by
;; tools/build-wasm.mjs into trainWasm.ts. Like kernels.wat, every kernel works on one shared
;; linear memory, takes byte offsets and computes only the work items [p0, p1) so a pool of
;; threads can split one call; unlike it, the products here are built for many rows (B T of
;; them), where the inference kernels are built for one.
;; One product serves the three of a linear layer: out (R, J) [+]= a (R, K) . b (J, K)^T, with
;; both operands packed beforehand, k-major, so the inner loop reads them in order: a in tiles
;; of 4 rows (pack_a), b in panels of 8 rows (pack_b). The packers read through strides, so a
;; row-major matrix and a transposed one pack alike. Plain TypeScript references:
;; engine/kernels/matmul.ts.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Stores the 4 x 4 block whose rows are r0..r3 transposed: column i at dst + i stride.
  (func $t4 (param $dst i32) (param $stride i32) (param $r0 v128) (param $r1 v128) (param $r2 v128) (param $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
    (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
    (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
    (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
    (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
    (v128.store (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3))))

  ;; Panels [p0, p1) of b (J, K), element (j, k) at src + 4 (j sj + k sk), into dst: panel p
  ;; is (K, 8) floats, dst[p, k, c] = b[8 p + c, k], zeros for 8 p + c >= J.
  (func (export "pack_b")
    (param $dst i32) (param $src i32) (param $J i32) (param $K i32) (param $sj i32) (param $sk i32) (param $p0 i32) (param $p1 i32)
    (local $p i32) (local $c i32) (local $j i32) (local $k i32) (local $s i32) (local $d i32) (local $skB i32) (local $end i32)
    (local.set $skB (i32.shl (local.get $sk) (i32.const 2)))
    (local.set $p (local.get $p0))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $p) (i32.shl (local.get $K) (i32.const 5)))))
      (local.set $end (i32.add (local.get $d) (i32.shl (local.get $K) (i32.const 5))))
      (if (i32.and (i32.eq (local.get $sj) (i32.const 1)) (i32.le_u (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 3)) (local.get $J)))
        (then
          ;; Eight contiguous floats per k: two vector copies.
          (local.set $s (i32.add (local.get $src) (i32.shl (local.get $p) (i32.const 5))))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $d) (local.get $end)))
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
            (local.set $s (i32.add (local.get $s) (local.get $skB)))
            (local.set $d (i32.add (local.get $d) (i32.const 32)))
            (br $kLoop))))
        (else (if (i32.and (i32.eq (local.get $sk) (i32.const 1)) (i32.le_u (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 3)) (local.get $J)))
        (then
          ;; Eight row-major rows: 4 x 4 blocks transposed, four k at a time, then the last k one by one.
          (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (i32.shl (local.get $p) (i32.const 3)) (local.get $sj)) (i32.const 2))))
          (local.set $j (i32.shl (local.get $sj) (i32.const 2)))
          (local.set $k (i32.const 0))
          (block $k4Done (loop $k4Loop
            (br_if $k4Done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
            (call $t4 (local.get $d) (i32.const 32)
              (v128.load (local.get $s)) (v128.load (i32.add (local.get $s) (local.get $j)))
              (v128.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 1)))) (v128.load (i32.add (local.get $s) (i32.mul (local.get $j) (i32.const 3)))))
            (call $t4 (i32.add (local.get $d) (i32.const 16)) (i32.const 32)
              (v128.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))) (v128.load (i32.add (local.get $s) (i32.mul (local.get $j) (i32.const 5))))
              (v128.load (i32.add (local.get $s) (i32.mul (local.get $j) (i32.const 6)))) (v128.load (i32.add (local.get $s) (i32.mul (local.get $j) (i32.const 7)))))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 128)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $k4Loop)))
          (block $k1Done (loop $k1Loop
            (br_if $k1Done (i32.ge_u (local.get $d) (local.get $end)))
            (local.set $c (i32.const 0))
            (block $cDone1 (loop $cLoop1
              (br_if $cDone1 (i32.ge_u (local.get $c) (i32.const 8)))
              (f32.store (i32.add (local.get $d) (i32.shl (local.get $c) (i32.const 2))) (f32.load (i32.add (local.get $s) (i32.mul (local.get $c) (local.get $j)))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $cLoop1)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 32)))
            (br $k1Loop))))
        (else
          ;; One row of b at a time (in order along k when sk = 1), zeros past J.
          (local.set $c (i32.const 0))
          (block $cDone (loop $cLoop
            (br_if $cDone (i32.ge_u (local.get $c) (i32.const 8)))
            (local.set $j (i32.add (i32.shl (local.get $p) (i32.const 3)) (local.get $c)))
            (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $j) (local.get $sj)) (i32.const 2))))
            (local.set $k (i32.add (local.get $d) (i32.shl (local.get $c) (i32.const 2))))
            (block $kDone2 (loop $kLoop2
              (br_if $kDone2 (i32.ge_u (local.get $k) (local.get $end)))
              (f32.store (local.get $k) (select (f32.load (local.get $s)) (f32.const 0) (i32.lt_u (local.get $j) (local.get $J))))
              (local.set $s (i32.add (local.get $s) (local.get $skB)))
              (local.set $k (i32.add (local.get $k) (i32.const 32)))
              (br $kLoop2)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cLoop)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop))))

  ;; v, plus the bias (0: none) and the old value (accum) of the 4 floats at p.
  (func $final (param $p i32) (param $v v128) (param $bias i32) (param $accum i32) (result v128)
    (if (local.get $bias) (then (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $bias))))))
    (if (local.get $accum) (then (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $p))))))
    (local.get $v))

  ;; Stores the first n (0..4) lanes of $final's value: the last panel's columns past J stay untouched.
  (func $storeN (param $p i32) (param $v v128) (param $n i32) (param $bias i32) (param $accum i32)
    (local $i i32) (local $x f32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $x (f32x4.extract_lane 0 (local.get $v)))
      (if (local.get $bias) (then (local.set $x (f32.add (local.get $x) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))))))
      (if (local.get $accum) (then (local.set $x (f32.add (local.get $x) (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))))
      (f32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (local.get $x))
      (local.set $v (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $v) (local.get $v)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; Eight columns (n of them real) of one output row.
  (func $store8 (param $p i32) (param $lo v128) (param $hi v128) (param $n i32) (param $bias i32) (param $accum i32)
    (if (i32.eq (local.get $n) (i32.const 8))
      (then
        (v128.store (local.get $p) (call $final (local.get $p) (local.get $lo) (local.get $bias) (local.get $accum)))
        (v128.store offset=16 (local.get $p)
          (call $final (i32.add (local.get $p) (i32.const 16)) (local.get $hi)
            (select (i32.add (local.get $bias) (i32.const 16)) (i32.const 0) (local.get $bias)) (local.get $accum))))
      (else
        (call $storeN (local.get $p) (local.get $lo) (select (local.get $n) (i32.const 4) (i32.lt_s (local.get $n) (i32.const 4))) (local.get $bias) (local.get $accum))
        (call $storeN (i32.add (local.get $p) (i32.const 16)) (local.get $hi) (i32.sub (local.get $n) (i32.const 4))
          (select (i32.add (local.get $bias) (i32.const 16)) (i32.const 0) (local.get $bias)) (local.get $accum)))))

  ;; Tiles [t0, t1) of 4 rows of a (R, K), element (r, k) at src + 4 (r sr + k sk), into dst:
  ;; tile t is (K, 4) floats, dst[t, k, i] = a[4 t + i, k], zeros for 4 t + i >= R.
  (func (export "pack_a")
    (param $dst i32) (param $src i32) (param $R i32) (param $K i32) (param $sr i32) (param $sk i32) (param $t0 i32) (param $t1 i32)
    (local $t i32) (local $i i32) (local $r i32) (local $s i32) (local $d i32) (local $skB i32) (local $end i32)
    (local.set $skB (i32.shl (local.get $sk) (i32.const 2)))
    (local.set $t (local.get $t0))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $t1)))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $t) (i32.shl (local.get $K) (i32.const 4)))))
      (local.set $end (i32.add (local.get $d) (i32.shl (local.get $K) (i32.const 4))))
      (if (i32.and (i32.eq (local.get $sr) (i32.const 1)) (i32.le_u (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)) (local.get $R)))
        (then
          ;; Four contiguous floats per k (a transposed gradient): one vector copy.
          (local.set $s (i32.add (local.get $src) (i32.shl (local.get $t) (i32.const 4))))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $d) (local.get $end)))
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (local.get $skB)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $kLoop))))
        (else (if (i32.and (i32.eq (local.get $sk) (i32.const 1)) (i32.le_u (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)) (local.get $R)))
        (then
          ;; Four row-major rows: 4 x 4 blocks transposed, then the last k one by one.
          (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (i32.shl (local.get $t) (i32.const 2)) (local.get $sr)) (i32.const 2))))
          (local.set $r (i32.shl (local.get $sr) (i32.const 2)))
          (local.set $i (i32.const 0))
          (block $k4Done (loop $k4Loop
            (br_if $k4Done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $K)))
            (call $t4 (local.get $d) (i32.const 16)
              (v128.load (local.get $s)) (v128.load (i32.add (local.get $s) (local.get $r)))
              (v128.load (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 1)))) (v128.load (i32.add (local.get $s) (i32.mul (local.get $r) (i32.const 3)))))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 64)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $k4Loop)))
          (block $k1Done (loop $k1Loop
            (br_if $k1Done (i32.ge_u (local.get $d) (local.get $end)))
            (f32.store (local.get $d) (f32.load (local.get $s)))
            (f32.store offset=4 (local.get $d) (f32.load (i32.add (local.get $s) (local.get $r))))
            (f32.store offset=8 (local.get $d) (f32.load (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 1)))))
            (f32.store offset=12 (local.get $d) (f32.load (i32.add (local.get $s) (i32.mul (local.get $r) (i32.const 3)))))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $k1Loop))))
        (else
          (local.set $i (i32.const 0))
          (block $iDone (loop $iLoop
            (br_if $iDone (i32.ge_u (local.get $i) (i32.const 4)))
            (local.set $r (i32.add (i32.shl (local.get $t) (i32.const 2)) (local.get $i)))
            (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $sr)) (i32.const 2))))
            (local.set $d (i32.add (i32.add (local.get $dst) (i32.mul (local.get $t) (i32.shl (local.get $K) (i32.const 4)))) (i32.shl (local.get $i) (i32.const 2))))
            (block $kDone2 (loop $kLoop2
              (br_if $kDone2 (i32.ge_u (local.get $d) (local.get $end)))
              (f32.store (local.get $d) (select (f32.load (local.get $s)) (f32.const 0) (i32.lt_u (local.get $r) (local.get $R))))
              (local.set $s (i32.add (local.get $s) (local.get $skB)))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))
              (br $kLoop2)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $iLoop)))))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop))))

  ;; out (R, J) [+]= alpha a (R, K) . b (J, K)^T + bias over b's panels [p0, p1) (columns 8 p0 ..),
  ;; a packed by pack_a, b by pack_b; out rows ldo floats apart; bias (J) or 0; alpha the f32
  ;; at $alpha, or 1 when $alpha is 0. Whole 4 x 8 tiles without bias are stored inline.
  ;; Tiles of a lie $tileS bytes apart and panels of b $panelS (16 K and 32 K when packed for
  ;; this K): a caller can run a long K as slices of the packed operands, accumulating.
  ;; Panels go in blocks that fit L2 (256 KiB); for each block every tile of 4 rows passes over
  ;; its panels: 4 x 8 outputs in 8 vector accumulators, one broadcast per row and k.
  (func (export "gemm")
    (param $out i32) (param $ap i32) (param $bp i32) (param $bias i32) (param $alpha i32)
    (param $R i32) (param $K i32) (param $J i32) (param $ldo i32) (param $accum i32)
    (param $tileS i32) (param $panelS i32) (param $p0 i32) (param $p1 i32)
    (local $ldoB i32) (local $panelB i32) (local $nb i32) (local $av v128)
    (local $q0 i32) (local $q1 i32) (local $r i32) (local $p i32) (local $n i32) (local $o i32) (local $bb i32)
    (local $at i32) (local $ak i32) (local $bk i32) (local $end i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $ldoB (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $panelB (i32.shl (local.get $K) (i32.const 5)))
    (local.set $nb (i32.div_u (i32.const 262144) (select (local.get $panelB) (i32.const 1) (local.get $panelB))))
    (if (i32.eqz (local.get $nb)) (then (local.set $nb (i32.const 1))))
    (local.set $q0 (local.get $p0))
    (block $qDone (loop $qLoop
      (br_if $qDone (i32.ge_u (local.get $q0) (local.get $p1)))
      (local.set $q1 (select (local.get $p1) (i32.add (local.get $q0) (local.get $nb))
        (i32.lt_u (local.get $p1) (i32.add (local.get $q0) (local.get $nb)))))
      (local.set $r (i32.const 0))
      (local.set $at (local.get $ap))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $p (local.get $q0))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.ge_u (local.get $p) (local.get $q1)))
          (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
          (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
          (local.set $s20 (v128.const i32x4 0 0 0 0)) (local.set $s21 (v128.const i32x4 0 0 0 0))
          (local.set $s30 (v128.const i32x4 0 0 0 0)) (local.set $s31 (v128.const i32x4 0 0 0 0))
          (local.set $bk (i32.add (local.get $bp) (i32.mul (local.get $p) (local.get $panelS))))
          (local.set $end (i32.add (local.get $bk) (local.get $panelB)))
          (local.set $ak (local.get $at))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $bk) (local.get $end)))
            (local.set $b0 (v128.load (local.get $bk)))
            (local.set $b1 (v128.load offset=16 (local.get $bk)))
            (local.set $x (v128.load32_splat (local.get $ak)))
            (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat offset=4 (local.get $ak)))
            (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat offset=8 (local.get $ak)))
            (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat offset=12 (local.get $ak)))
            (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $ak (i32.add (local.get $ak) (i32.const 16)))
            (local.set $bk (i32.add (local.get $bk) (i32.const 32)))
            (br $kLoop)))
          (if (local.get $alpha) (then
            (local.set $av (v128.load32_splat (local.get $alpha)))
            (local.set $s00 (f32x4.mul (local.get $s00) (local.get $av))) (local.set $s01 (f32x4.mul (local.get $s01) (local.get $av)))
            (local.set $s10 (f32x4.mul (local.get $s10) (local.get $av))) (local.set $s11 (f32x4.mul (local.get $s11) (local.get $av)))
            (local.set $s20 (f32x4.mul (local.get $s20) (local.get $av))) (local.set $s21 (f32x4.mul (local.get $s21) (local.get $av)))
            (local.set $s30 (f32x4.mul (local.get $s30) (local.get $av))) (local.set $s31 (f32x4.mul (local.get $s31) (local.get $av)))))
          (local.set $n (i32.sub (local.get $J) (i32.shl (local.get $p) (i32.const 3))))
          (if (i32.gt_s (local.get $n) (i32.const 8)) (then (local.set $n (i32.const 8))))
          (local.set $bb (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 5))) (i32.const 0) (local.get $bias)))
          (local.set $o (i32.add (local.get $out) (i32.add (i32.mul (local.get $r) (local.get $ldoB)) (i32.shl (local.get $p) (i32.const 5)))))
          (if (i32.and (i32.and (i32.eq (local.get $n) (i32.const 8)) (i32.eqz (local.get $bias)))
                (i32.le_u (i32.add (local.get $r) (i32.const 4)) (local.get $R)))
            (then
              (if (local.get $accum) (then
                (local.set $s00 (f32x4.add (local.get $s00) (v128.load (local.get $o))))
                (local.set $s01 (f32x4.add (local.get $s01) (v128.load offset=16 (local.get $o))))
                (local.set $s10 (f32x4.add (local.get $s10) (v128.load (i32.add (local.get $o) (local.get $ldoB)))))
                (local.set $s11 (f32x4.add (local.get $s11) (v128.load offset=16 (i32.add (local.get $o) (local.get $ldoB)))))
                (local.set $s20 (f32x4.add (local.get $s20) (v128.load (i32.add (local.get $o) (i32.shl (local.get $ldoB) (i32.const 1))))))
                (local.set $s21 (f32x4.add (local.get $s21) (v128.load offset=16 (i32.add (local.get $o) (i32.shl (local.get $ldoB) (i32.const 1))))))
                (local.set $s30 (f32x4.add (local.get $s30) (v128.load (i32.add (local.get $o) (i32.mul (local.get $ldoB) (i32.const 3))))))
                (local.set $s31 (f32x4.add (local.get $s31) (v128.load offset=16 (i32.add (local.get $o) (i32.mul (local.get $ldoB) (i32.const 3))))))))
              (v128.store (local.get $o) (local.get $s00))
              (v128.store offset=16 (local.get $o) (local.get $s01))
              (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
              (v128.store (local.get $o) (local.get $s10))
              (v128.store offset=16 (local.get $o) (local.get $s11))
              (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
              (v128.store (local.get $o) (local.get $s20))
              (v128.store offset=16 (local.get $o) (local.get $s21))
              (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
              (v128.store (local.get $o) (local.get $s30))
              (v128.store offset=16 (local.get $o) (local.get $s31))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $pLoop)))
          ;; Rows past R are padding of the last tile: not stored.
          (call $store8 (local.get $o) (local.get $s00) (local.get $s01) (local.get $n) (local.get $bb) (local.get $accum))
          (if (i32.lt_u (i32.add (local.get $r) (i32.const 1)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
            (call $store8 (local.get $o) (local.get $s10) (local.get $s11) (local.get $n) (local.get $bb) (local.get $accum))))
          (if (i32.lt_u (i32.add (local.get $r) (i32.const 2)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
            (call $store8 (local.get $o) (local.get $s20) (local.get $s21) (local.get $n) (local.get $bb) (local.get $accum))))
          (if (i32.lt_u (i32.add (local.get $r) (i32.const 3)) (local.get $R)) (then
            (local.set $o (i32.add (local.get $o) (local.get $ldoB)))
            (call $store8 (local.get $o) (local.get $s30) (local.get $s31) (local.get $n) (local.get $bb) (local.get $accum))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (local.set $at (i32.add (local.get $at) (local.get $tileS)))
        (br $rLoop)))
      (local.set $q0 (local.get $q1))
      (br $qLoop))))
;; e^x in f32, four lanes (Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial;
  ;; relative error about 1e-7); inputs are clamped to [-87, 88], where the result stays finite.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x)
      (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add
      (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; Softmax statistics of rows [r0, r1) of logits (R, V): stats (R, 2) f64 = (max, sum of
  ;; e^(x - max)), the sum accumulated in f64 over the whole vocabulary; each logit becomes
  ;; its e^(x - max) in place (ce_grad then only scales them).
  (func (export "ce_stats") (param $logits i32) (param $stats i32) (param $V i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $x i32) (local $end4 i32) (local $end i32) (local $m v128) (local $max f32)
    (local $e v128) (local $s0 v128) (local $s1 v128) (local $sum f64)
    (local.set $r (local.get $r0))
    (block $rDone (loop $rLoop
      (br_if $rDone (i32.ge_u (local.get $r) (local.get $r1)))
      (local.set $x (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $r) (local.get $V)) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $V) (i32.const -4)) (i32.const 2))))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $V) (i32.const 2))))
      (local.set $m (v128.const f32x4 -inf -inf -inf -inf))
      (block $mDone (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $m (f32x4.max (local.get $m) (v128.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $mLoop)))
      (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
        (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
      (block $tDone (loop $tLoop
        (br_if $tDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $max (f32.max (local.get $max) (f32.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tLoop)))
      (local.set $m (f32x4.splat (local.get $max)))
      (local.set $x (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $r) (local.get $V)) (i32.const 2))))
      (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (v128.const i32x4 0 0 0 0))
      (block $sDone (loop $sLoop
        (br_if $sDone (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $e (call $exp4 (f32x4.sub (v128.load (local.get $x)) (local.get $m))))
        (v128.store (local.get $x) (local.get $e))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $e))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $sLoop)))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
      (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
      (block $uDone (loop $uLoop
        (br_if $uDone (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $x) (f32x4.extract_lane 0 (call $exp4 (f32x4.sub (v128.load32_splat (local.get $x)) (local.get $m)))))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $uLoop)))
      (f64.store (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4))) (f64.promote_f32 (local.get $max)))
      (f64.store offset=8 (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4))) (local.get $sum))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rLoop))))

;; Rows [r0, r1) of ce_stats' exponentials (R, V) scaled in place: x *= the f32 of stats[r, 1]
  ;; (the row's d loss / sum: its softmax times d loss; 0 clears an ignored row).
  (func (export "ce_grad") (param $logits i32) (param $stats i32) (param $V i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $x i32) (local $end4 i32) (local $end i32) (local $scale v128)
    (local.set $r (local.get $r0))
    (block $rDone (loop $rLoop
      (br_if $rDone (i32.ge_u (local.get $r) (local.get $r1)))
      (local.set $x (i32.add (local.get $logits) (i32.shl (i32.mul (local.get $r) (local.get $V)) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $V) (i32.const -4)) (i32.const 2))))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $V) (i32.const 2))))
      (local.set $scale (f32x4.splat (f32.demote_f64 (f64.load offset=8 (i32.add (local.get $stats) (i32.shl (local.get $r) (i32.const 4)))))))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $x) (local.get $end4)))
        (v128.store (local.get $x) (f32x4.mul (local.get $scale) (v128.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $gLoop)))
      (block $tDone (loop $tLoop
        (br_if $tDone (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $x) (f32.mul (f32x4.extract_lane 0 (local.get $scale)) (f32.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rLoop))))

  ;; Causal softmax of one (sequence, head) of attention, rows [r0, r1) of T: with first =
  ;; max(0, t - window + 1) (window 0: none), row t of scores S (T, T) gives probs[t, j] =
  ;; softmax over j in [first, t] of S[t, j] scale (only those written) and the same row of P
  ;; (T, T) with zeros elsewhere, for the P V product. f32 exp, f64 sum; scale the f32 at $c.
  ;; Reference: kernels/attentionTrain.ts.
  (func (export "softmax_fwd") (param $S i32) (param $probs i32) (param $P i32) (param $T i32) (param $window i32) (param $c i32) (param $r0 i32) (param $r1 i32)
    (local $t i32) (local $row i32) (local $j i32) (local $first i32) (local $n i32)
    (local $scale v128) (local $m v128) (local $max f32) (local $e v128) (local $s0 v128) (local $sum f64) (local $inv v128)
    (local.set $scale (v128.load32_splat (local.get $c)))
    (local.set $t (local.get $r0))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $r1)))
      (local.set $row (i32.shl (i32.mul (local.get $t) (local.get $T)) (i32.const 2)))
      (local.set $first (i32.const 0))
      (if (i32.and (i32.ne (local.get $window) (i32.const 0)) (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $window)))
        (then (local.set $first (i32.sub (i32.add (local.get $t) (i32.const 1)) (local.get $window)))))
      (local.set $n (i32.add (local.get $t) (i32.const 1)))
      (memory.fill (i32.add (local.get $P) (local.get $row)) (i32.const 0) (i32.shl (local.get $T) (i32.const 2)))
      ;; max over [first, t]
      (local.set $max (f32.const -inf))
      (local.set $j (local.get $first))
      (block $mDone (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $max (f32.max (local.get $max) (f32.mul (f32.load (i32.add (i32.add (local.get $S) (local.get $row)) (i32.shl (local.get $j) (i32.const 2))))
          (f32x4.extract_lane 0 (local.get $scale)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $mLoop)))
      (local.set $m (f32x4.splat (local.get $max)))
      ;; e = exp(S scale - max) into P, four at a time while four remain, summed in f64
      (local.set $sum (f64.const 0))
      (local.set $j (local.get $first))
      (block $eDone (loop $eLoop
        (br_if $eDone (i32.ge_u (local.get $j) (local.get $n)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (local.set $e (call $exp4 (f32x4.sub (f32x4.mul (v128.load (i32.add (i32.add (local.get $S) (local.get $row)) (i32.shl (local.get $j) (i32.const 2)))) (local.get $scale)) (local.get $m))))
            (v128.store (i32.add (i32.add (local.get $P) (local.get $row)) (i32.shl (local.get $j) (i32.const 2))) (local.get $e))
            (local.set $s0 (f64x2.add (f64x2.promote_low_f32x4 (local.get $e))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
            (local.set $sum (f64.add (local.get $sum) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4))))
          (else
            (local.set $e (call $exp4 (f32x4.sub (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $S) (local.get $row)) (i32.shl (local.get $j) (i32.const 2)))) (local.get $scale)) (local.get $m))))
            (f32.store (i32.add (i32.add (local.get $P) (local.get $row)) (i32.shl (local.get $j) (i32.const 2))) (f32x4.extract_lane 0 (local.get $e)))
            (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $e)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        (br $eLoop)))
      ;; normalise in P and copy to probs
      (local.set $inv (f32x4.splat (f32.demote_f64 (f64.div (f64.const 1) (local.get $sum)))))
      (local.set $j (local.get $first))
      (block $nDone (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $e (f32x4.mul (v128.load32_splat (i32.add (i32.add (local.get $P) (local.get $row)) (i32.shl (local.get $j) (i32.const 2)))) (local.get $inv)))
        (f32.store (i32.add (i32.add (local.get $P) (local.get $row)) (i32.shl (local.get $j) (i32.const 2))) (f32x4.extract_lane 0 (local.get $e)))
        (f32.store (i32.add (i32.add (local.get $probs) (local.get $row)) (i32.shl (local.get $j) (i32.const 2))) (f32x4.extract_lane 0 (local.get $e)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $nLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop))))

  ;; Backward of softmax_fwd, rows [r0, r1): with dP (T, T) = dO V^T and the probabilities,
  ;; dS[t, j] = p (dP[t, j] - sum_j' p dP[t, j']) scale for j in [first, t] and the rows of P
  ;; (T, T) again (the dV product reads them), both zero elsewhere; the sum in f64.
  (func (export "softmax_bwd") (param $dP i32) (param $probs i32) (param $dS i32) (param $P i32) (param $T i32) (param $window i32) (param $c i32) (param $r0 i32) (param $r1 i32)
    (local $t i32) (local $row i32) (local $j i32) (local $first i32) (local $n i32) (local $at i32)
    (local $scale f32) (local $w f64) (local $p f32) (local $wf f32)
    (local.set $scale (f32.load (local.get $c)))
    (local.set $t (local.get $r0))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $r1)))
      (local.set $row (i32.shl (i32.mul (local.get $t) (local.get $T)) (i32.const 2)))
      (local.set $first (i32.const 0))
      (if (i32.and (i32.ne (local.get $window) (i32.const 0)) (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $window)))
        (then (local.set $first (i32.sub (i32.add (local.get $t) (i32.const 1)) (local.get $window)))))
      (local.set $n (i32.add (local.get $t) (i32.const 1)))
      (memory.fill (i32.add (local.get $P) (local.get $row)) (i32.const 0) (i32.shl (local.get $T) (i32.const 2)))
      (memory.fill (i32.add (local.get $dS) (local.get $row)) (i32.const 0) (i32.shl (local.get $T) (i32.const 2)))
      (local.set $w (f64.const 0))
      (local.set $j (local.get $first))
      (block $wDone (loop $wLoop
        (br_if $wDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $w (f64.add (local.get $w) (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $probs) (local.get $at))))
          (f64.promote_f32 (f32.load (i32.add (local.get $dP) (local.get $at)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $wLoop)))
      (local.set $wf (f32.demote_f64 (local.get $w)))
      (local.set $j (local.get $first))
      (block $dDone (loop $dLoop
        (br_if $dDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (f32.load (i32.add (local.get $probs) (local.get $at))))
        (f32.store (i32.add (local.get $dS) (local.get $at))
          (f32.mul (f32.mul (local.get $p) (f32.sub (f32.load (i32.add (local.get $dP) (local.get $at))) (local.get $wf))) (local.get $scale)))
        (f32.store (i32.add (local.get $P) (local.get $at)) (local.get $p))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $dLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop))))

;; LayerNorm over rows [r0, r1) of inp (R, C), as kernels/norms.ts: the mean and the
  ;; variance (of x - mean) summed in f64, out = (x - mean) rstd w + b (b 0: none) in f32;
  ;; mean and rstd kept (R); eps the f32 at $c.
  (func (export "layernorm_fwd") (param $out i32) (param $mean i32) (param $rstd i32) (param $inp i32) (param $w i32) (param $b i32) (param $C i32) (param $c i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $x i32) (local $o i32) (local $i i32) (local $end4 i32) (local $e v128) (local $acc v128)
    (local $m f64) (local $v f64) (local $d f64) (local $mv v128) (local $sv v128) (local $s f64)
    (local.set $end4 (i32.shl (i32.and (local.get $C) (i32.const -4)) (i32.const 2)))
    (local.set $r (local.get $r0))
    (block $rDone (loop $rLoop
      (br_if $rDone (i32.ge_u (local.get $r) (local.get $r1)))
      (local.set $x (i32.add (local.get $inp) (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2))))
      (local.set $o (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $sDone (loop $sLoop
        (br_if $sDone (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $e (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $acc (f64x2.add (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (local.get $e)))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $sLoop)))
      (local.set $m (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
      (block $tDone (loop $tLoop
        (br_if $tDone (i32.ge_u (local.get $i) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $m (f64.add (local.get $m) (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tLoop)))
      (local.set $m (f64.div (local.get $m) (f64.convert_i32_u (local.get $C))))
      (local.set $v (f64.const 0))
      (local.set $i (i32.const 0))
      (block $vDone (loop $vLoop
        (br_if $vDone (i32.ge_u (local.get $i) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $d (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i)))) (local.get $m)))
        (local.set $v (f64.add (local.get $v) (f64.mul (local.get $d) (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vLoop)))
      (local.set $s (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div (local.get $v) (f64.convert_i32_u (local.get $C))) (f64.promote_f32 (f32.load (local.get $c)))))))
      (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $m)))
      (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $s)))
      (local.set $mv (f32x4.splat (f32.demote_f64 (local.get $m))))
      (local.set $sv (f32x4.splat (f32.demote_f64 (local.get $s))))
      (local.set $i (i32.const 0))
      (block $oDone (loop $oLoop
        (br_if $oDone (i32.ge_u (local.get $i) (i32.shl (local.get $C) (i32.const 2))))
        (if (i32.lt_u (local.get $i) (local.get $end4))
          (then
            (local.set $e (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $i))) (local.get $mv)) (local.get $sv))
              (v128.load (i32.add (local.get $w) (local.get $i)))))
            (if (local.get $b) (then (local.set $e (f32x4.add (local.get $e) (v128.load (i32.add (local.get $b) (local.get $i)))))))
            (v128.store (i32.add (local.get $o) (local.get $i)) (local.get $e))
            (local.set $i (i32.add (local.get $i) (i32.const 16))))
          (else
            (local.set $e (f32x4.mul (f32x4.mul (f32x4.sub (v128.load32_splat (i32.add (local.get $x) (local.get $i))) (local.get $mv)) (local.get $sv))
              (v128.load32_splat (i32.add (local.get $w) (local.get $i)))))
            (if (local.get $b) (then (local.set $e (f32x4.add (local.get $e) (v128.load32_splat (i32.add (local.get $b) (local.get $i)))))))
            (f32.store (i32.add (local.get $o) (local.get $i)) (f32x4.extract_lane 0 (local.get $e)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))))
        (br $oLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rLoop))))

  ;; Input gradient of layernorm_fwd, rows [r0, r1): dinp += rstd (dout w - mean(dout w)
  ;; - xhat mean(dout w xhat)), the two means summed in f64.
  (func (export "layernorm_bwd_dx") (param $dinp i32) (param $dout i32) (param $inp i32) (param $w i32) (param $mean i32) (param $rstd i32) (param $C i32) (param $r0 i32) (param $r1 i32)
    (local $r i32) (local $row i32) (local $i i32) (local $m f32) (local $s f32) (local $dn f64) (local $dx f64) (local $g f32) (local $xh f32)
    (local $a v128) (local $bq v128) (local $mv v128) (local $sv v128)
    (local.set $r (local.get $r0))
    (block $rDone (loop $rLoop
      (br_if $rDone (i32.ge_u (local.get $r) (local.get $r1)))
      (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2)))
      (local.set $m (f32.load (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $s (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $dn (f64.const 0))
      (local.set $dx (f64.const 0))
      (local.set $i (i32.const 0))
      (block $sDone (loop $sLoop
        (br_if $sDone (i32.ge_u (local.get $i) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $g (f32.mul (f32.load (i32.add (i32.add (local.get $dout) (local.get $row)) (local.get $i))) (f32.load (i32.add (local.get $w) (local.get $i)))))
        (local.set $xh (f32.mul (f32.sub (f32.load (i32.add (i32.add (local.get $inp) (local.get $row)) (local.get $i))) (local.get $m)) (local.get $s)))
        (local.set $dn (f64.add (local.get $dn) (f64.promote_f32 (local.get $g))))
        (local.set $dx (f64.add (local.get $dx) (f64.mul (f64.promote_f32 (local.get $g)) (f64.promote_f32 (local.get $xh)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $sLoop)))
      (local.set $a (f32x4.splat (f32.demote_f64 (f64.div (local.get $dn) (f64.convert_i32_u (local.get $C))))))
      (local.set $bq (f32x4.splat (f32.demote_f64 (f64.div (local.get $dx) (f64.convert_i32_u (local.get $C))))))
      (local.set $mv (f32x4.splat (local.get $m)))
      (local.set $sv (f32x4.splat (local.get $s)))
      (local.set $i (i32.const 0))
      (block $dDone (loop $dLoop
        (br_if $dDone (i32.ge_u (local.get $i) (i32.shl (local.get $C) (i32.const 2))))
        (call $lnDx (i32.add (i32.add (local.get $dinp) (local.get $row)) (local.get $i)) (i32.add (i32.add (local.get $dout) (local.get $row)) (local.get $i))
          (i32.add (i32.add (local.get $inp) (local.get $row)) (local.get $i)) (i32.add (local.get $w) (local.get $i))
          (local.get $mv) (local.get $sv) (local.get $a) (local.get $bq)
          (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (select (i32.const 4) (i32.const 16)
          (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (i32.shl (local.get $C) (i32.const 2))))))
        (br $dLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rLoop))))

  ;; dinp += rstd (dout w - a - xhat bq) at four (one) elements.
  (func $lnDx (param $di i32) (param $do i32) (param $x i32) (param $w i32) (param $mv v128) (param $sv v128) (param $a v128) (param $bq v128) (param $one i32)
    (local $v v128)
    (if (local.get $one)
      (then
        (local.set $v (f32x4.mul (local.get $sv) (f32x4.sub (f32x4.sub (f32x4.mul (v128.load32_splat (local.get $do)) (v128.load32_splat (local.get $w))) (local.get $a))
          (f32x4.mul (f32x4.mul (f32x4.sub (v128.load32_splat (local.get $x)) (local.get $mv)) (local.get $sv)) (local.get $bq)))))
        (f32.store (local.get $di) (f32.add (f32.load (local.get $di)) (f32x4.extract_lane 0 (local.get $v)))))
      (else
        (local.set $v (f32x4.mul (local.get $sv) (f32x4.sub (f32x4.sub (f32x4.mul (v128.load (local.get $do)) (v128.load (local.get $w))) (local.get $a))
          (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (local.get $x)) (local.get $mv)) (local.get $sv)) (local.get $bq)))))
        (v128.store (local.get $di) (f32x4.add (v128.load (local.get $di)) (local.get $v))))))

  ;; Weight and bias gradients of layernorm_fwd over columns [c0, c1) of (R, C): dw += sum over
  ;; rows of dout xhat, db += sum of dout (db 0: none), rows in order, in f32 as the reference.
  (func (export "layernorm_bwd_dw") (param $dw i32) (param $db i32) (param $dout i32) (param $inp i32) (param $mean i32) (param $rstd i32) (param $R i32) (param $C i32) (param $c0 i32) (param $c1 i32)
    (local $c i32) (local $r i32) (local $at i32) (local $aw v128) (local $ab v128) (local $d v128) (local $one i32)
    (local.set $c (local.get $c0))
    (block $cDone (loop $cLoop
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $c1)))
      (local.set $one (i32.gt_u (i32.add (local.get $c) (i32.const 4)) (local.get $c1)))
      (local.set $aw (select (v128.load32_splat (i32.add (local.get $dw) (i32.shl (local.get $c) (i32.const 2)))) (v128.load (i32.add (local.get $dw) (i32.shl (local.get $c) (i32.const 2)))) (local.get $one)))
      (local.set $ab (v128.const i32x4 0 0 0 0))
      (if (local.get $db) (then (local.set $ab (select (v128.load32_splat (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 2)))) (v128.load (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 2)))) (local.get $one)))))
      (local.set $r (i32.const 0))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $at (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))
        (local.set $d (select (v128.load32_splat (i32.add (local.get $dout) (local.get $at))) (v128.load (i32.add (local.get $dout) (local.get $at))) (local.get $one)))
        (local.set $aw (f32x4.add (local.get $aw) (f32x4.mul (local.get $d)
          (f32x4.mul (f32x4.sub (select (v128.load32_splat (i32.add (local.get $inp) (local.get $at))) (v128.load (i32.add (local.get $inp) (local.get $at))) (local.get $one))
            (v128.load32_splat (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))))
            (v128.load32_splat (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))))))))
        (local.set $ab (f32x4.add (local.get $ab) (local.get $d)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rLoop)))
      (if (local.get $one)
        (then
          (f32.store (i32.add (local.get $dw) (i32.shl (local.get $c) (i32.const 2))) (f32x4.extract_lane 0 (local.get $aw)))
          (if (local.get $db) (then (f32.store (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 2))) (f32x4.extract_lane 0 (local.get $ab)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1))))
        (else
          (v128.store (i32.add (local.get $dw) (i32.shl (local.get $c) (i32.const 2))) (local.get $aw))
          (if (local.get $db) (then (v128.store (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 2))) (local.get $ab))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))))
      (br $cLoop))))

  ;; The optimizer and element-wise kernels below work on items that are elements (or blocks
  ;; of them) of buffers resident in the shared memory, four lanes at a time with a scalar tail
  ;; run through the same code (load32_splat, lane 0 stored). Plain TypeScript references:
  ;; train/adamw.ts and kernels/activations.ts.

  ;; AdamW on four (one) elements at byte offset $o of params, grads, m and v, torch's f32
  ;; arithmetic: g *= gscale; p *= keep; m += (g - m)(1 - beta1); v = beta2 v + (1 - beta2) g g;
  ;; p -= step m / (sqrt(v) / bc2 + eps). Constants (f32) at $c: keep, 1 - beta1, beta2,
  ;; 1 - beta2, step, bc2, eps, gscale.
  (func $adam (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $c i32) (param $one i32)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128)
    (if (local.get $one)
      (then
        (local.set $pv (v128.load32_splat (local.get $p)))
        (local.set $gv (v128.load32_splat (local.get $g)))
        (local.set $mv (v128.load32_splat (local.get $m)))
        (local.set $vv (v128.load32_splat (local.get $v))))
      (else
        (local.set $pv (v128.load (local.get $p)))
        (local.set $gv (v128.load (local.get $g)))
        (local.set $mv (v128.load (local.get $m)))
        (local.set $vv (v128.load (local.get $v)))))
    (local.set $gv (f32x4.mul (local.get $gv) (v128.load32_splat offset=28 (local.get $c))))
    (local.set $pv (f32x4.mul (local.get $pv) (v128.load32_splat (local.get $c))))
    (local.set $mv (f32x4.add (local.get $mv)
      (f32x4.mul (f32x4.sub (local.get $gv) (local.get $mv)) (v128.load32_splat offset=4 (local.get $c)))))
    (local.set $vv (f32x4.add (f32x4.mul (v128.load32_splat offset=8 (local.get $c)) (local.get $vv))
      (f32x4.mul (f32x4.mul (v128.load32_splat offset=12 (local.get $c)) (local.get $gv)) (local.get $gv))))
    (local.set $pv (f32x4.sub (local.get $pv)
      (f32x4.div (f32x4.mul (v128.load32_splat offset=16 (local.get $c)) (local.get $mv))
        (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (v128.load32_splat offset=20 (local.get $c)))
          (v128.load32_splat offset=24 (local.get $c))))))
    (if (local.get $one)
      (then
        (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $pv)))
        (f32.store (local.get $m) (f32x4.extract_lane 0 (local.get $mv)))
        (f32.store (local.get $v) (f32x4.extract_lane 0 (local.get $vv))))
      (else
        (v128.store (local.get $p) (local.get $pv))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv)))))

  ;; One AdamW update of elements [i0, i1) of params, grads, m, v (constants at $c, see $adam).
  (func (export "adamw") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $c i32) (param $i0 i32) (param $i1 i32)
    (local $o i32) (local $end i32)
    (local.set $o (i32.shl (local.get $i0) (i32.const 2)))
    (local.set $end (i32.shl (local.get $i1) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (call $adam (i32.add (local.get $p) (local.get $o)) (i32.add (local.get $g) (local.get $o))
        (i32.add (local.get $m) (local.get $o)) (i32.add (local.get $v) (local.get $o)) (local.get $c)
        (i32.gt_u (i32.add (local.get $o) (i32.const 16)) (local.get $end)))
      (local.set $o (i32.add (local.get $o) (select (i32.const 16) (i32.const 4)
        (i32.le_u (i32.add (local.get $o) (i32.const 16)) (local.get $end)))))
      (br $l))))

  ;; Elements [i0, i1) of dst set to zero.
  (func (export "zero") (param $dst i32) (param $i0 i32) (param $i1 i32)
    (memory.fill (i32.add (local.get $dst) (i32.shl (local.get $i0) (i32.const 2))) (i32.const 0)
      (i32.shl (i32.sub (local.get $i1) (local.get $i0)) (i32.const 2))))

  ;; Blocks [b0, b1) of 4096 elements of g (n floats): partials (f64, one per block) = the sum
  ;; of the squares in f64, so a global norm sums the same partials in the same order whatever
  ;; the threads.
  (func (export "sumsq") (param $g i32) (param $partials i32) (param $n i32) (param $b0 i32) (param $b1 i32)
    (local $b i32) (local $x i32) (local $end i32) (local $end4 i32) (local $e v128) (local $s0 v128) (local $s1 v128) (local $sum f64) (local $f f64)
    (local.set $b (local.get $b0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $b1)))
      (local.set $x (i32.add (local.get $g) (i32.shl (local.get $b) (i32.const 14))))
      (local.set $end (i32.add (local.get $g) (i32.shl (select (local.get $n) (i32.shl (i32.add (local.get $b) (i32.const 1)) (i32.const 12))
        (i32.lt_u (local.get $n) (i32.shl (i32.add (local.get $b) (i32.const 1)) (i32.const 12)))) (i32.const 2))))
      (local.set $end4 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $x)) (i32.const 15))))
      (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (v128.const i32x4 0 0 0 0))
      (block $vDone (loop $vLoop
        (br_if $vDone (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $e (v128.load (local.get $x)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $e)) (f64x2.promote_low_f32x4 (local.get $e)))))
        (local.set $e (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $e)) (f64x2.promote_low_f32x4 (local.get $e)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vLoop)))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
      (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
      (block $tDone (loop $tLoop
        (br_if $tDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $f (f64.promote_f32 (f32.load (local.get $x))))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $f) (local.get $f))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tLoop)))
      (f64.store (i32.add (local.get $partials) (i32.shl (local.get $b) (i32.const 3))) (local.get $sum))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; GELU's tanh form on four lanes: (gelu(x), gelu'(x)) for x, as kernels/activations.ts;
  ;; tanh(u) = sign(u) (1 - e^(-2|u|)) / (1 + e^(-2|u|)).
  (func $gelu4 (param $x v128) (result v128 v128)
    (local $u v128) (local $t v128) (local $th v128) (local $xx v128)
    (local.set $xx (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $u (f32x4.mul (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654)
      (f32x4.add (local.get $x) (f32x4.mul (v128.const f32x4 0.044715 0.044715 0.044715 0.044715) (f32x4.mul (local.get $xx) (local.get $x))))))
    (local.set $t (call $exp4 (f32x4.mul (v128.const f32x4 -2 -2 -2 -2) (f32x4.abs (local.get $u)))))
    (local.set $th (v128.or (v128.and (local.get $u) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
      (f32x4.div (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $t)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t)))))
    (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $x)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $th)))
    (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $th)))
      (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $x))
          (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $th) (local.get $th))))
        (f32x4.mul (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654)
          (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (v128.const f32x4 0.134145 0.134145 0.134145 0.134145) (local.get $xx)))))))

  ;; Elements [i0, i1): out = gelu(inp).
  (func (export "gelu_fwd") (param $out i32) (param $inp i32) (param $i0 i32) (param $i1 i32)
    (local $o i32) (local $end i32) (local $y v128) (local $dy v128)
    (local.set $o (i32.shl (local.get $i0) (i32.const 2)))
    (local.set $end (i32.shl (local.get $i1) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (if (i32.le_u (i32.add (local.get $o) (i32.const 16)) (local.get $end))
        (then
          (call $gelu4 (v128.load (i32.add (local.get $inp) (local.get $o))))
          (local.set $dy) (local.set $y)
          (v128.store (i32.add (local.get $out) (local.get $o)) (local.get $y))
          (local.set $o (i32.add (local.get $o) (i32.const 16))))
        (else
          (call $gelu4 (v128.load32_splat (i32.add (local.get $inp) (local.get $o))))
          (local.set $dy) (local.set $y)
          (f32.store (i32.add (local.get $out) (local.get $o)) (f32x4.extract_lane 0 (local.get $y)))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))))
      (br $l))))

  ;; Elements [i0, i1): dinp += dout * gelu'(inp).
  (func (export "gelu_bwd") (param $dinp i32) (param $dout i32) (param $inp i32) (param $i0 i32) (param $i1 i32)
    (local $o i32) (local $end i32) (local $y v128) (local $dy v128) (local $d i32)
    (local.set $o (i32.shl (local.get $i0) (i32.const 2)))
    (local.set $end (i32.shl (local.get $i1) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $d (i32.add (local.get $dinp) (local.get $o)))
      (if (i32.le_u (i32.add (local.get $o) (i32.const 16)) (local.get $end))
        (then
          (call $gelu4 (v128.load (i32.add (local.get $inp) (local.get $o))))
          (local.set $dy) (local.set $y)
          (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d))
            (f32x4.mul (v128.load (i32.add (local.get $dout) (local.get $o))) (local.get $dy))))
          (local.set $o (i32.add (local.get $o) (i32.const 16))))
        (else
          (call $gelu4 (v128.load32_splat (i32.add (local.get $inp) (local.get $o))))
          (local.set $dy) (local.set $y)
          (f32.store (local.get $d) (f32.add (f32.load (local.get $d))
            (f32.mul (f32.load (i32.add (local.get $dout) (local.get $o))) (f32x4.extract_lane 0 (local.get $dy)))))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))))
      (br $l))))
)
