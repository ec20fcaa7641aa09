/**
 * $setWindowFields, $densify and $fill through the official driver, with the examples of
 * mongod's documentation as golden cases; mongod's parse and runtime error codes; the stages in a
 * transaction; getMore on a pipeline cursor yielding to other connections; Decimal128 math.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test collections hold ad-hoc documents
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal128, type Collection, type Db, type Document } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

const CAKE_SALES = [
  { _id: 0, type: 'chocolate', orderDate: new Date('2020-05-18T14:10:30Z'), state: 'CA', price: 13, quantity: 120 },
  { _id: 1, type: 'chocolate', orderDate: new Date('2021-03-20T11:30:05Z'), state: 'WA', price: 14, quantity: 140 },
  { _id: 2, type: 'vanilla', orderDate: new Date('2021-01-11T06:31:15Z'), state: 'CA', price: 12, quantity: 145 },
  { _id: 3, type: 'vanilla', orderDate: new Date('2020-02-08T13:13:23Z'), state: 'WA', price: 13, quantity: 104 },
  { _id: 4, type: 'strawberry', orderDate: new Date('2019-05-18T16:09:01Z'), state: 'CA', price: 41, quantity: 162 },
  { _id: 5, type: 'strawberry', orderDate: new Date('2019-01-08T06:12:03Z'), state: 'WA', price: 43, quantity: 134 },
];

function near(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: ${String(actual)}`);
  assert.ok(Math.abs((actual as number) - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${String(actual)} vs ${expected}`);
}

describe('$setWindowFields, $densify and $fill', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });
  const freshDb = (): Db => (db = h.client.db(uniqueDbName('win')));
  const cakes = async (): Promise<Collection<any>> => {
    const c = freshDb().collection<any>('cakeSales');
    await c.insertMany(CAKE_SALES.map((d) => ({ ...d })));
    return c;
  };
  const byId = (docs: Document[], field: string): Record<number, unknown> => Object.fromEntries(docs.map((d) => [d._id as number, d[field]]));

  describe('$setWindowFields (the documentation examples)', () => {
    it('cumulative $sum per state, documents ["unbounded", "current"]; output order is partition then sortBy', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        { $setWindowFields: { partitionBy: '$state', sortBy: { orderDate: 1 }, output: { cumulativeQuantityForState: { $sum: '$quantity', window: { documents: ['unbounded', 'current'] } } } } },
      ]).toArray();
      assert.deepEqual(out.map((d) => [d._id, d.cumulativeQuantityForState]), [[4, 162], [0, 282], [2, 427], [5, 134], [3, 238], [1, 378]]);
      // The input document comes back whole, with the output field added at its end.
      assert.deepEqual(Object.keys(out[0]!), ['_id', 'type', 'orderDate', 'state', 'price', 'quantity', 'cumulativeQuantityForState']);
    });

    it('partitionBy an expression ($year), $sum and a moving $avg over documents [-1, 0]', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: { $year: '$orderDate' },
            sortBy: { orderDate: 1 },
            output: {
              cumulativeQuantityForYear: { $sum: '$quantity', window: { documents: ['unbounded', 'current'] } },
              averageQuantity: { $avg: '$quantity', window: { documents: [-1, 0] } },
            },
          },
        },
      ]).toArray();
      assert.deepEqual(out.map((d) => [d._id, d.cumulativeQuantityForYear, d.averageQuantity]), [
        [5, 134, 134], [4, 296, 148], [3, 104, 104], [0, 224, 112], [2, 145, 145], [1, 285, 142.5],
      ]);
    });

    it('range window [-10, 10] over price, and a time range with unit: month', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        { $setWindowFields: { partitionBy: '$state', sortBy: { price: 1 }, output: { quantityFromSimilarOrders: { $sum: '$quantity', window: { range: [-10, 10] } } } } },
      ]).toArray();
      assert.deepEqual(byId(out, 'quantityFromSimilarOrders'), { 2: 265, 0: 265, 4: 162, 3: 244, 1: 244, 5: 134 });
      const recent = await c.aggregate([
        { $setWindowFields: { partitionBy: '$state', sortBy: { orderDate: 1 }, output: { recentOrders: { $push: '$orderDate', window: { range: ['unbounded', 10], unit: 'month' } } } } },
      ]).toArray();
      const dates = (id: number): string[] => (recent.find((d) => d._id === id)!.recentOrders as Date[]).map((d) => d.toISOString().slice(0, 10));
      assert.deepEqual(dates(4), ['2019-05-18']);
      assert.deepEqual(dates(0), ['2019-05-18', '2020-05-18', '2021-01-11']);
      assert.deepEqual(dates(5), ['2019-01-08']);
      assert.deepEqual(dates(3), ['2019-01-08', '2020-02-08']);
      const older = await c.aggregate([
        { $setWindowFields: { partitionBy: '$state', sortBy: { orderDate: 1 }, output: { old: { $push: '$orderDate', window: { range: ['unbounded', -10], unit: 'month' } } } } },
      ]).toArray();
      assert.deepEqual(byId(older, 'old')[4], []);
      assert.deepEqual((byId(older, 'old')[2] as Date[]).map((d) => d.toISOString().slice(0, 10)), ['2019-05-18']);
    });

    it('$min $max $count $first $last $push $addToSet $stdDevPop $stdDevSamp over a whole partition', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$state',
            sortBy: { orderDate: 1 },
            output: {
              min: { $min: '$quantity' },
              max: { $max: '$quantity', window: { documents: ['unbounded', 'unbounded'] } },
              count: { $count: {} },
              first: { $first: '$type' },
              last: { $last: '$type', window: { documents: ['current', 'current'] } },
              types: { $push: '$type' },
              typeSet: { $addToSet: '$type' },
              sdPop: { $stdDevPop: '$quantity' },
              sdSamp: { $stdDevSamp: '$quantity', window: { documents: ['unbounded', 'current'] } },
            },
          },
        },
        { $match: { state: 'CA' } },
      ]).toArray();
      assert.deepEqual(out.map((d) => d._id), [4, 0, 2]);
      const ca = [162, 120, 145];
      const mean = ca.reduce((a, b) => a + b) / 3;
      const sdPop = Math.sqrt(ca.reduce((s, x) => s + (x - mean) ** 2, 0) / 3);
      for (const d of out) {
        assert.equal(d.min, 120);
        assert.equal(d.max, 162);
        assert.equal(d.count, 3);
        assert.equal(d.first, 'strawberry');
        assert.deepEqual(d.types, ['strawberry', 'chocolate', 'vanilla']);
        assert.deepEqual(d.typeSet, ['chocolate', 'strawberry', 'vanilla']);
        near(d.sdPop, sdPop, 'stdDevPop');
      }
      assert.deepEqual(out.map((d) => d.last), ['strawberry', 'chocolate', 'vanilla']);
      const samp = (xs: number[]): number => {
        const m = xs.reduce((a, b) => a + b) / xs.length;
        return Math.sqrt(xs.reduce((acc, x) => acc + (x - m) ** 2, 0) / (xs.length - 1));
      };
      assert.equal(out[0]!.sdSamp, null);
      near(out[1]!.sdSamp, samp([162, 120]), 'stdDevSamp 2');
      near(out[2]!.sdSamp, samp([162, 120, 145]), 'stdDevSamp 3');
    });

    it('$rank, $denseRank, $documentNumber, $shift (documentation: sortBy quantity -1)', async () => {
      const c = await cakes();
      await c.insertOne({ _id: 6, type: 'lemon', orderDate: new Date('2022-01-01T00:00:00Z'), state: 'CA', price: 10, quantity: 145 });
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$state',
            sortBy: { quantity: -1 },
            output: {
              rank: { $rank: {} },
              dense: { $denseRank: {} },
              n: { $documentNumber: {} },
              next: { $shift: { output: '$quantity', by: 1, default: 'Not available' } },
              prev: { $shift: { output: '$quantity', by: -1 } },
            },
          },
        },
      ]).toArray();
      assert.deepEqual(out.map((d) => [d._id, d.quantity, d.rank, d.dense, d.n, d.next, d.prev]), [
        [4, 162, 1, 1, 1, 145, null],
        [2, 145, 2, 2, 2, 145, 162],
        [6, 145, 2, 2, 3, 120, 145],
        [0, 120, 4, 3, 4, 'Not available', 145],
        [1, 140, 1, 1, 1, 134, null],
        [5, 134, 2, 2, 2, 104, 140],
        [3, 104, 3, 3, 3, 'Not available', 134],
      ]);
    });

    it('$covariancePop and $covarianceSamp (documentation example)', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$state',
            sortBy: { orderDate: 1 },
            output: {
              pop: { $covariancePop: [{ $year: '$orderDate' }, '$quantity'], window: { documents: ['unbounded', 'current'] } },
              samp: { $covarianceSamp: [{ $year: '$orderDate' }, '$quantity'], window: { documents: ['unbounded', 'current'] } },
            },
          },
        },
      ]).toArray();
      const cov = (pts: Array<[number, number]>, samp: boolean): number | null => {
        if (pts.length === 0 || (samp && pts.length < 2)) return null;
        const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
        const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
        return pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / (samp ? pts.length - 1 : pts.length);
      };
      for (const state of ['CA', 'WA']) {
        const rows = out.filter((d) => d.state === state);
        rows.forEach((d, i) => {
          const pts = rows.slice(0, i + 1).map((r) => [(r.orderDate as Date).getUTCFullYear(), r.quantity as number] as [number, number]);
          near(d.pop, cov(pts, false)!, `pop ${String(d._id)}`);
          if (i === 0) assert.equal(d.samp, null);
          else near(d.samp, cov(pts, true)!, `samp ${String(d._id)}`);
        });
      }
      // The documentation's first values: 0 for a single document, then -10.5 for CA.
      assert.deepEqual(out.filter((d) => d.state === 'CA').map((d) => d.pop).slice(0, 2), [0, -10.5]);
    });

    it('$expMovingAvg with N and alpha (documentation: stockPrices)', async () => {
      const c = freshDb().collection<any>('stockPrices');
      const prices: Record<string, number[]> = { ABC: [13, 15.4, 12, 11.7], DEF: [82, 94, 112, 97.3] };
      for (const [stock, ps] of Object.entries(prices)) {
        await c.insertMany(ps.map((price, i) => ({ stock, date: new Date(Date.UTC(2020, 4, 18 + i, 20)), price })));
      }
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$stock',
            sortBy: { date: 1 },
            output: { expMovingAvgForStock: { $expMovingAvg: { input: '$price', N: 2 } }, alpha: { $expMovingAvg: { input: '$price', alpha: 0.75 } } },
          },
        },
      ]).toArray();
      const expected = (ps: number[], a: number): number[] => {
        const r: number[] = [];
        for (const p of ps) r.push(r.length === 0 ? p : p * a + r[r.length - 1]! * (1 - a));
        return r;
      };
      for (const [stock, ps] of Object.entries(prices)) {
        const rows = out.filter((d) => d.stock === stock);
        expected(ps, 2 / 3).forEach((v, i) => near(rows[i]!.expMovingAvgForStock, v, `${stock} N`));
        expected(ps, 0.75).forEach((v, i) => near(rows[i]!.alpha, v, `${stock} alpha`));
      }
      // The documentation's figures for ABC.
      near(out[1]!.expMovingAvgForStock, 14.6, 'ABC 2');
      near(out[3]!.expMovingAvgForStock, 12.088888888888889, 'ABC 4');
    });

    it('$derivative and $integral with units (documentation: deliveryFleet, powerConsumption)', async () => {
      const d1 = freshDb();
      const fleet = d1.collection<any>('deliveryFleet');
      const t = (hms: string): Date => new Date(`2020-05-18T${hms}Z`);
      const miles: Record<string, number[]> = { 1: [1295.1, 1295.63, 1296.25, 1296.76], 2: [10234.1, 10234.33, 10234.73, 10235.13] };
      const times = ['14:10:30', '14:11:00', '14:11:30', '14:12:00'];
      for (const [truckID, ms] of Object.entries(miles)) await fleet.insertMany(ms.map((m, i) => ({ truckID, timeStamp: t(times[i]!), miles: m })));
      const speeds = await fleet.aggregate([
        { $setWindowFields: { partitionBy: '$truckID', sortBy: { timeStamp: 1 }, output: { truckAverageSpeed: { $derivative: { input: '$miles', unit: 'hour' }, window: { range: [-30, 0], unit: 'second' } } } } },
        { $match: { truckAverageSpeed: { $gt: 50 } } },
      ]).toArray();
      assert.deepEqual(speeds.map((d) => [d.truckID, (d.timeStamp as Date).toISOString().slice(11, 19)]), [['1', '14:11:00'], ['1', '14:11:30'], ['1', '14:12:00']]);
      near(speeds[0]!.truckAverageSpeed, 63.6, 'speed 1');
      near(speeds[1]!.truckAverageSpeed, 74.4, 'speed 2');
      near(speeds[2]!.truckAverageSpeed, 61.2, 'speed 3');

      const power = d1.collection<any>('powerConsumption');
      const kw: Record<string, number[]> = { 1: [2.95, 2.7, 2.6, 2.98], 2: [2.5, 2.25, 2.75, 2.82] };
      for (const [powerMeterID, ks] of Object.entries(kw)) await power.insertMany(ks.map((k, i) => ({ powerMeterID, timeStamp: t(times[i]!), kilowatts: k })));
      const out = await power.aggregate([
        { $setWindowFields: { partitionBy: '$powerMeterID', sortBy: { timeStamp: 1 }, output: { powerMeterKilowattHours: { $integral: { input: '$kilowatts', unit: 'hour' }, window: { range: ['unbounded', 'current'], unit: 'hour' } } } } },
      ]).toArray();
      // The trapezoidal rule over 30-second steps, in kilowatt-hours.
      const expected = [0, 0.0235416666666667, 0.045625, 0.068875, 0, 0.0197916666666667, 0.040625, 0.0638333333333333];
      out.forEach((d, i) => assert.ok(Math.abs((d.powerMeterKilowattHours as number) - expected[i]!) < 1e-12, `${i}: ${String(d.powerMeterKilowattHours)}`));
    });

    it('$minN $maxN $firstN $lastN $top $bottom $topN $bottomN over windows', async () => {
      const c = await cakes();
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$state',
            sortBy: { orderDate: 1 },
            output: {
              minN: { $minN: { input: '$quantity', n: 2 } },
              maxN: { $maxN: { input: '$quantity', n: 2 }, window: { documents: ['unbounded', 'current'] } },
              firstN: { $firstN: { input: '$_id', n: 2 }, window: { documents: [-1, 1] } },
              lastN: { $lastN: { input: '$_id', n: 2 } },
              top: { $top: { output: '$type', sortBy: { price: 1 } } },
              bottom: { $bottom: { output: '$type', sortBy: { price: 1 } } },
              topN: { $topN: { output: '$price', sortBy: { price: -1 }, n: 2 } },
              bottomN: { $bottomN: { output: '$price', sortBy: { price: -1 }, n: 2 }, window: { documents: ['current', 'unbounded'] } },
            },
          },
        },
        { $match: { state: 'CA' } },
      ]).toArray();
      assert.deepEqual(out.map((d) => d._id), [4, 0, 2]);
      assert.deepEqual(out.map((d) => d.minN), [[120, 145], [120, 145], [120, 145]]);
      assert.deepEqual(out.map((d) => d.maxN), [[162], [162, 120], [162, 145]]);
      assert.deepEqual(out.map((d) => d.firstN), [[4, 0], [4, 0], [0, 2]]);
      assert.deepEqual(out.map((d) => d.lastN), [[0, 2], [0, 2], [0, 2]]);
      assert.deepEqual(out.map((d) => d.top), ['vanilla', 'vanilla', 'vanilla']);
      assert.deepEqual(out.map((d) => d.bottom), ['strawberry', 'strawberry', 'strawberry']);
      assert.deepEqual(out.map((d) => d.topN), [[41, 13], [41, 13], [41, 13]]);
      assert.deepEqual(out.map((d) => d.bottomN), [[13, 12], [13, 12], [12]]);
    });

    it('$locf and $linearFill (documentation examples), nested output paths', async () => {
      const c = freshDb().collection<any>('stock');
      const at = (m: number): Date => new Date(Date.UTC(2021, 2, 8, 9, m));
      await c.insertMany([
        { time: at(0), price: 500 }, { time: at(5), price: 485 }, { time: at(10) }, { time: at(15), price: null },
        { time: at(20), price: 495 }, { time: at(25), price: 495 }, { time: at(30) }, { time: at(35) },
      ]);
      const locf = await c.aggregate([{ $setWindowFields: { sortBy: { time: 1 }, output: { 'filled.price': { $locf: '$price' } } } }]).toArray();
      assert.deepEqual(locf.map((d) => (d.filled as Document).price), [500, 485, 485, 485, 495, 495, 495, 495]);
      const s = db.collection<any>('linear');
      await s.insertMany([{ time: at(0), price: 500 }, { time: at(5) }, { time: at(10), price: 515 }, { time: at(15) }, { time: at(20), price: null }, { time: at(25), price: 530 }, { time: at(30) }]);
      const lin = await s.aggregate([{ $setWindowFields: { sortBy: { time: 1 }, output: { price: { $linearFill: '$price' } } } }]).toArray();
      assert.deepEqual(lin.map((d) => d.price), [500, 507.5, 515, 520, 525, 530, null]);
    });

    it('null and missing: one partition, tied ranks; a missing $first/$shift value leaves the field out', async () => {
      const c = freshDb().collection<any>('n');
      await c.insertMany([{ _id: 1, k: null, v: 1 }, { _id: 2, v: 2 }, { _id: 3, k: 'a', v: 3 }, { _id: 4, k: 'a' }]);
      const out = await c.aggregate([
        {
          $setWindowFields: {
            partitionBy: '$k',
            sortBy: { k: 1 },
            output: { n: { $count: {} }, rank: { $rank: {} }, next: { $shift: { output: '$v', by: 1, default: 'none' } }, last: { $last: '$v' } },
          },
        },
      ]).toArray();
      assert.deepEqual(out.map((d) => [d._id, d.n, d.rank, d.next ?? 'missing', d.last ?? 'missing']), [
        [1, 2, 1, 2, 2], [2, 2, 1, 'none', 2], [3, 2, 1, 'missing', 'missing'], [4, 2, 1, 'none', 'missing'],
      ]);
      assert.equal('last' in out[2]!, false);
    });

    it('without sortBy the partition keeps input order; without partitionBy every document is one partition', async () => {
      const c = await cakes();
      const out = await c.aggregate([{ $sort: { _id: -1 } }, { $setWindowFields: { output: { ids: { $push: '$_id' }, total: { $sum: '$quantity' } } } }]).toArray();
      assert.deepEqual(out.map((d) => d._id), [5, 4, 3, 2, 1, 0]);
      for (const d of out) {
        assert.deepEqual(d.ids, [5, 4, 3, 2, 1, 0]);
        assert.equal(d.total, 805);
      }
    });
  });

  describe('$setWindowFields errors (mongod codes)', () => {
    const run = (stage: Document): Promise<Document[]> => db.collection<any>('cakeSales').aggregate([stage]).toArray();
    it('parse errors', async () => {
      await cakes();
      await failsWith(run({ $setWindowFields: 1 }), 9, /the \$setWindowFields stage specification must be an object, found int/);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 } } }), 40414, /\$setWindowFields\.output/);
      await failsWith(run({ $setWindowFields: { output: {}, foo: 1 } }), 40415, /\$setWindowFields\.foo/);
      await failsWith(run({ $setWindowFields: { output: { r: { $rank: {} } } } }), 5371602, /\$rank must be specified with a top level sortBy/);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1, b: 1 }, output: { r: { $denseRank: {} } } } }), 5371602);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { r: { $rank: {}, window: { documents: [0, 1] } } } } }), 5371601);
      await failsWith(run({ $setWindowFields: { output: { s: { $shift: { output: '$a', by: 1 } } } } }), 9, /'\$shift' requires a sortBy/);
      await failsWith(run({ $setWindowFields: { output: { s: { $sum: '$a', window: { documents: [-1, 0] } } } } }), 5339901, /Document-based bounds require a sortBy/);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1, b: 1 }, output: { s: { $sum: '$a', window: { range: [-1, 0] } } } } }), 5339902);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { s: { $sum: '$a', window: { documents: [1, 0] } } } } }), 5339900);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { s: { $summ: '$a' } } } }), 9, /Unrecognized window function, \$summ/);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { s: { $sum: '$a', windoww: {} } } } }), 9, /Window function found an unknown argument: windoww/);
      await failsWith(run({ $setWindowFields: { output: { s: 1 } } }), 9, /The field 's' must be an object/);
      await failsWith(run({ $setWindowFields: { output: { a: { $sum: 1 }, 'a.b': { $sum: 1 } } } }), 6307900);
      await failsWith(run({ $setWindowFields: { partitionBy: { $literal: [1] }, output: { a: { $sum: 1 } } } }), 14);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { d: { $derivative: { input: '$a' } } } } }), 9, /requires explicit window bounds/);
      await failsWith(run({ $setWindowFields: { output: { d: { $integral: { input: '$a' } } } } }), 9, /\$integral requires a sortBy/);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { e: { $expMovingAvg: { input: '$a', N: 2 }, window: { documents: [0, 0] } } } } }), 9);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { e: { $expMovingAvg: { input: '$a', alpha: 2 } } } } }), 9, /between 0 and 1/);
      await failsWith(run({ $setWindowFields: { output: { l: { $linearFill: '$a' } } } }), 605001);
      await failsWith(run({ $setWindowFields: { sortBy: { a: 1 }, output: { s: { $sum: '$a', window: { range: [-1, 0], unit: 'fortnight' } } } } }), 9);
    });

    it('runtime errors', async () => {
      await cakes();
      await failsWith(run({ $setWindowFields: { partitionBy: '$tags', output: { a: { $sum: 1 } } } }).then(async () => {
        await db.collection<any>('cakeSales').insertOne({ _id: 10, tags: ['x'] });
        return run({ $setWindowFields: { partitionBy: '$tags', output: { a: { $sum: 1 } } } });
      }), 14, /partition cannot evaluate to value of type array/);
      await db.collection<any>('cakeSales').deleteOne({ _id: 10 });
      await failsWith(run({ $setWindowFields: { sortBy: { type: 1 }, output: { s: { $sum: '$a', window: { range: [-1, 0] } } } } }), 5429414);
      await failsWith(run({ $setWindowFields: { sortBy: { orderDate: 1 }, output: { s: { $sum: '$a', window: { range: [-1, 0] } } } } }), 5429413);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { s: { $sum: '$a', window: { range: [-1, 0], unit: 'day' } } } } }), 5429513);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { d: { $derivative: { input: '$quantity', unit: 'hour' }, window: { documents: [-1, 0] } } } } }), 5624900);
      await failsWith(run({ $setWindowFields: { sortBy: { orderDate: 1 }, output: { d: { $derivative: { input: '$quantity' }, window: { documents: [-1, 0] } } } } }), 5624901);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { i: { $integral: { input: '$quantity', unit: 'hour' } } } } }), 5423901);
      await failsWith(run({ $setWindowFields: { sortBy: { orderDate: 1 }, output: { i: { $integral: { input: '$quantity' } } } } }), 5423902);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { l: { $linearFill: '$quantity' } } } }), 6050106);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { i: { $integral: { input: '$type' } } } } }), 5423900);
      await failsWith(run({ $setWindowFields: { sortBy: { price: 1 }, output: { d: { $derivative: { input: '$nothing' }, window: { documents: [-1, 0] } } } } }), 5624903);
      // A partition larger than internalDocumentSourceSetWindowFieldsMaxMemoryBytes fails unless
      // allowDiskUse lifts the limit (mongod would spill).
      const admin = h.client.db('admin');
      await admin.command({ setParameter: 1, internalDocumentSourceSetWindowFieldsMaxMemoryBytes: 500 });
      try {
        await failsWith(run({ $setWindowFields: { output: { n: { $count: {} } } } }), 5414201, /Exceeded memory limit in DocumentSourceSetWindowFields/);
        const all = await db.collection<any>('cakeSales').aggregate([{ $setWindowFields: { output: { n: { $count: {} } } } }], { allowDiskUse: true }).toArray();
        assert.equal(all.length, 6);
        // Small partitions each stay under the limit.
        assert.equal((await run({ $setWindowFields: { partitionBy: '$_id', output: { n: { $count: {} } } } })).length, 6);
      } finally {
        await admin.command({ setParameter: 1, internalDocumentSourceSetWindowFieldsMaxMemoryBytes: 100 * 1024 * 1024 });
      }
    });
  });

  describe('$densify (documentation examples)', () => {
    it('time series with explicit bounds and unit: hour', async () => {
      const c = freshDb().collection<any>('weather');
      const hour = (h: number): Date => new Date(Date.UTC(2021, 4, 18, h));
      await c.insertMany([0, 4, 8, 12].map((h, i) => ({ metadata: { sensorId: 5578, type: 'temperature' }, timestamp: hour(h), temp: [12, 11, 11, 12][i] })));
      const out = await c.aggregate([{ $densify: { field: 'timestamp', range: { step: 1, unit: 'hour', bounds: [hour(0), hour(8)] } } }]).toArray();
      assert.deepEqual(out.map((d) => (d.timestamp as Date).getUTCHours()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 12]);
      const generated = out.find((d) => (d.timestamp as Date).getUTCHours() === 1)!;
      assert.deepEqual(Object.keys(generated), ['timestamp']);
    });

    it('partitionByFields with bounds "full" and "partition" (coffee altitudes)', async () => {
      const c = freshDb().collection<any>('coffee');
      await c.insertMany([
        { altitude: 600, variety: 'Arabica Typica', score: 68.3 },
        { altitude: 750, variety: 'Arabica Typica', score: 69.5 },
        { altitude: 950, variety: 'Arabica Typica', score: 70.5 },
        { altitude: 1250, variety: 'Gesha', score: 88.15 },
        { altitude: 1700, variety: 'Gesha', score: 85.5 },
        { altitude: 1600, variety: 'Gesha', score: 85.0 },
      ]);
      const summary = (docs: Document[]): Record<string, Array<[number, boolean]>> => {
        const r: Record<string, Array<[number, boolean]>> = {};
        for (const d of docs) (r[d.variety as string] ??= []).push([d.altitude as number, d.score !== undefined]);
        for (const k of Object.keys(r)) r[k]!.sort((a, b) => a[0] - b[0]);
        return r;
      };
      const full = await c.aggregate([{ $densify: { field: 'altitude', partitionByFields: ['variety'], range: { bounds: 'full', step: 200 } } }]).toArray();
      assert.deepEqual(summary(full), {
        'Arabica Typica': [[600, true], [750, true], [800, false], [950, true], [1000, false], [1200, false], [1400, false], [1600, false]],
        Gesha: [[600, false], [800, false], [1000, false], [1200, false], [1250, true], [1400, false], [1600, true], [1700, true]],
      });
      const part = await c.aggregate([{ $densify: { field: 'altitude', partitionByFields: ['variety'], range: { bounds: 'partition', step: 200 } } }]).toArray();
      assert.deepEqual(summary(part), {
        'Arabica Typica': [[600, true], [750, true], [800, false], [950, true]],
        Gesha: [[1250, true], [1450, false], [1600, true], [1650, false], [1700, true]],
      });
      const generated = part.find((d) => d.altitude === 1450)!;
      assert.deepEqual(Object.keys(generated).sort(), ['_id', 'altitude', 'variety'].filter((k) => k !== '_id').sort());
    });

    it('"full" with partitions reaches the global maximum when it is on the grid', async () => {
      const c = freshDb().collection<any>('p');
      await c.insertMany([{ p: 'a', v: 0 }, { p: 'a', v: 2 }, { p: 'b', v: 1 }, { p: 'b', v: 4 }]);
      const out = await c.aggregate([{ $densify: { field: 'v', partitionByFields: ['p'], range: { step: 1, bounds: 'full' } } }, { $sort: { p: 1, v: 1 } }]).toArray();
      assert.deepEqual(out.map((d) => `${d.p as string}${d.v as number}`), ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
      const explicit = await c.aggregate([{ $densify: { field: 'v', partitionByFields: ['p'], range: { step: 2, bounds: [0, 4] } } }, { $sort: { p: 1, v: 1 } }]).toArray();
      assert.deepEqual(explicit.map((d) => `${d.p as string}${d.v as number}`), ['a0', 'a2', 'b0', 'b1', 'b2', 'b4']);
    });

    it('documents without the field pass through; errors', async () => {
      const c = freshDb().collection<any>('d');
      await c.insertMany([{ _id: 1, v: 1 }, { _id: 2 }, { _id: 3, v: 4 }, { _id: 4, v: null }]);
      const out = await c.aggregate([{ $densify: { field: 'v', range: { step: 1, bounds: 'full' } } }]).toArray();
      assert.deepEqual(out.map((d) => d.v ?? (d.v === null ? 'null' : 'missing')), ['missing', 'null', 1, 2, 3, 4]);
      const run = (spec: unknown): Promise<Document[]> => c.aggregate([{ $densify: spec }]).toArray();
      await failsWith(run(1), 9);
      await failsWith(run({ range: { step: 1, bounds: 'full' } }), 40414, /\$densify\.field/);
      await failsWith(run({ field: 'v', range: { step: 0, bounds: 'full' } }), 5733401);
      await failsWith(run({ field: 'v', range: { step: 1.5, unit: 'hour', bounds: 'full' } }), 6586400);
      await failsWith(run({ field: 'v', range: { step: 1, bounds: [1] } }), 5733403);
      await failsWith(run({ field: 'v', range: { step: 1, bounds: [5, 1] } }), 5733402);
      await failsWith(run({ field: 'v', range: { step: 1, bounds: 'everything' } }), 5946802);
      await failsWith(run({ field: 'v', range: { step: 1, bounds: 'partition' } }), 5733408);
      await failsWith(run({ field: 'v', range: { step: 1, bounds: [new Date(0), new Date(1)] } }), 5733410);
      await failsWith(run({ field: 'v', range: { step: 1, unit: 'day', bounds: 'full' } }), 6053600);
      // Counted on the server, so the error comes with the first batch.
      await failsWith(c.aggregate([{ $densify: { field: 'v', range: { step: 1e-6, bounds: 'full' } } }, { $count: 'n' }]).toArray(), 5897900);
      await c.insertOne({ _id: 5, v: 'x' });
      await failsWith(run({ field: 'v', range: { step: 1, bounds: 'full' } }), 5733201);
    });
  });

  describe('$fill (documentation examples)', () => {
    it('value, locf, linear, partitionByFields', async () => {
      const c = freshDb().collection<any>('dailySales');
      await c.insertMany([
        { date: new Date('2022-02-02'), bootsSold: 10, sandalsSold: 20, sneakersSold: 12 },
        { date: new Date('2022-02-03'), bootsSold: 7, sneakersSold: 18 },
        { date: new Date('2022-02-04'), sneakersSold: 5 },
      ]);
      const values = await c.aggregate([{ $fill: { output: { bootsSold: { value: 0 }, sandalsSold: { value: 0 }, sneakersSold: { value: 0 } } } }, { $sort: { date: 1 } }]).toArray();
      assert.deepEqual(values.map((d) => [d.bootsSold, d.sandalsSold, d.sneakersSold]), [[10, 20, 12], [7, 0, 18], [0, 0, 5]]);

      const stock = db.collection<any>('stock');
      const at = (m: number): Date => new Date(Date.UTC(2021, 2, 8, 9, m));
      await stock.insertMany([{ time: at(0), price: 500 }, { time: at(5), price: 485 }, { time: at(10) }, { time: at(15) }, { time: at(20), price: 505 }, { time: at(25) }]);
      const locf = await stock.aggregate([{ $fill: { sortBy: { time: 1 }, output: { price: { method: 'locf' } } } }]).toArray();
      assert.deepEqual(locf.map((d) => d.price), [500, 485, 485, 485, 505, 505]);
      const linear = await stock.aggregate([{ $fill: { sortBy: { time: 1 }, output: { price: { method: 'linear' } } } }]).toArray();
      assert.deepEqual(linear.map((d) => typeof d.price === 'number' ? Math.round(d.price * 1e9) / 1e9 : d.price), [500, 485, 491.666666667, 498.333333333, 505, null]);

      const reviews = db.collection<any>('restaurantReviewsMultiple');
      await reviews.insertMany([
        { date: new Date('2021-03-08'), restaurant: 'Joe\'s Pizza', score: 90 },
        { date: new Date('2021-03-08'), restaurant: 'Sally\'s Deli', score: 75 },
        { date: new Date('2021-03-09'), restaurant: 'Joe\'s Pizza', score: 92 },
        { date: new Date('2021-03-09'), restaurant: 'Sally\'s Deli' },
        { date: new Date('2021-03-10'), restaurant: 'Joe\'s Pizza' },
        { date: new Date('2021-03-10'), restaurant: 'Sally\'s Deli', score: 68 },
        { date: new Date('2021-03-11'), restaurant: 'Joe\'s Pizza', score: 93 },
        { date: new Date('2021-03-11'), restaurant: 'Sally\'s Deli' },
      ]);
      const filled = await reviews.aggregate([{ $fill: { sortBy: { date: 1 }, partitionByFields: ['restaurant'], output: { score: { method: 'locf' } } } }]).toArray();
      assert.deepEqual(filled.map((d) => [d.restaurant, d.score]), [
        ['Joe\'s Pizza', 90], ['Joe\'s Pizza', 92], ['Joe\'s Pizza', 92], ['Joe\'s Pizza', 93],
        ['Sally\'s Deli', 75], ['Sally\'s Deli', 75], ['Sally\'s Deli', 68], ['Sally\'s Deli', 68],
      ]);
    });

    it('errors', async () => {
      const c = freshDb().collection<any>('f');
      await c.insertOne({ a: 1 });
      const run = (spec: unknown): Promise<Document[]> => c.aggregate([{ $fill: spec }]).toArray();
      await failsWith(run('x'), 9);
      await failsWith(run({}), 40414, /\$fill\.output/);
      await failsWith(run({ output: {} }), 6050203);
      await failsWith(run({ output: { a: 1 } }), 6050200);
      await failsWith(run({ output: { a: { method: 'locf', value: 1 } } }), 6050201);
      await failsWith(run({ output: { a: { method: 'nearest' } } }), 6050202);
      await failsWith(run({ partitionBy: '$a', partitionByFields: ['a'], output: { a: { method: 'locf' } } }), 6050204);
      await failsWith(run({ output: { a: { method: 'linear' } } }), 605001);
      await failsWith(run({ output: { a: { value: 1 } }, bogus: 1 }), 40415);
    });
  });

  it('in a transaction, the stages read the transaction\'s snapshot (its own writes, not later commits)', async () => {
    const d = freshDb();
    const c = d.collection<any>('t');
    await c.insertMany([{ _id: 1, v: 1 }, { _id: 3, v: 3 }]);
    const session = h.client.startSession();
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
      await c.insertOne({ _id: 5, v: 5 }, { session });
      // Committed by another client after the transaction's snapshot: invisible inside it.
      await c.insertOne({ _id: 7, v: 7 });
      const windowed = await c.aggregate([{ $setWindowFields: { sortBy: { v: 1 }, output: { running: { $sum: '$v', window: { documents: ['unbounded', 'current'] } } } } }], { session }).toArray();
      assert.deepEqual(windowed.map((x) => x.running), [1, 4, 9]);
      const dense = await c.aggregate([{ $densify: { field: 'v', range: { step: 1, bounds: 'full' } } }, { $fill: { sortBy: { v: 1 }, output: { _id: { method: 'locf' } } } }], { session }).toArray();
      assert.deepEqual(dense.map((x) => [x.v, x._id]), [[1, 1], [2, 1], [3, 3], [4, 3], [5, 5]]);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
  });

  it('getMore on a pipeline cursor yields to other connections while the pipeline works', async () => {
    const d = freshDb();
    const c = d.collection<any>('load');
    await d.aggregate([
      { $documents: [{}] }, { $project: { i: { $range: [0, 50_000] } } }, { $unwind: '$i' },
      { $project: { _id: '$i', v: '$i' } }, { $out: 'load' },
    ]).toArray();
    // The $project keeps the $match out of the query planner, so getMore scans the collection
    // through the pipeline: after the first two documents, the third is at the very end.
    const cursor = c.aggregate([{ $project: { v: 1 } }, { $match: { v: { $in: [0, 1, 49_999] } } }], { batchSize: 1 });
    assert.equal((await cursor.next())?.v, 0);
    const pinger = h.client.db('admin');
    await pinger.command({ ping: 1 });
    let done = false;
    // The second document came with the first batch's read-ahead; the getMore that returns it
    // also reads ahead to the third, across the whole collection.
    const second = cursor.next().then((x) => {
      done = true;
      return x;
    });
    let pings = 0;
    while (!done) {
      await pinger.command({ ping: 1 });
      pings++;
    }
    assert.equal((await second)?.v, 1);
    console.log(`# ${pings} pings answered while one getMore scanned 50000 documents`);
    assert.ok(pings >= 3, `only ${pings} pings were answered while getMore ran`);
    assert.equal((await cursor.next())?.v, 49_999);
    assert.equal(await cursor.next(), null);
    await cursor.close();
  });

  it('Decimal128 $sqrt $ln $log $log10 $exp $pow', async () => {
    const dec = (s: string): Decimal128 => Decimal128.fromString(s);
    const [r] = await freshDb().aggregate([
      { $documents: [{}] },
      {
        $project: {
          _id: 0,
          sqrt16: { $sqrt: dec('16') },
          sqrt2: { $sqrt: dec('2') },
          sqrtFrac: { $sqrt: dec('0.25') },
          pow: { $pow: [dec('2'), 10] },
          powNeg: { $pow: [dec('2'), -2] },
          powBig: { $pow: [dec('3'), 40] },
          powFrac: { $pow: [dec('4'), dec('0.5')] },
          log10: { $log10: dec('1000') },
          log2: { $log: [dec('8'), 2] },
          log3: { $log: [dec('9'), 3] },
          ln1: { $ln: dec('1') },
          ln2: { $ln: dec('2') },
          exp0: { $exp: dec('0') },
          exp1: { $exp: dec('1') },
        },
      },
    ]).toArray();
    const s = (v: unknown): string => {
      assert.ok(v instanceof Decimal128, `not a Decimal128: ${String(v)}`);
      return v.toString();
    };
    assert.equal(s(r!.sqrt16), '4');
    assert.equal(s(r!.sqrt2), '1.414213562373095048801688724209698');
    assert.equal(s(r!.sqrtFrac), '0.5');
    // mongod widens every Decimal128 power to 34 digits (it adds 0E-6176 to the result).
    assert.equal(s(r!.pow), '1024.000000000000000000000000000000');
    assert.equal(s(r!.powNeg), '0.2500000000000000000000000000000000');
    assert.equal(s(r!.powBig), `${(3n ** 40n).toString()}.00000000000000`);
    assert.equal(s(r!.powFrac), '2.000000000000000000000000000000000');
    assert.equal(s(r!.log10), '3');
    assert.equal(s(r!.log2), '3');
    // Other bases divide two rounded natural logarithms, so the last digit may be off by one.
    assert.ok(Math.abs(Number(s(r!.log3)) - 2) < 1e-30);
    assert.equal(s(r!.ln1), '0');
    assert.equal(s(r!.ln2), '0.6931471805599453094172321214581766');
    assert.equal(s(r!.exp0), '1');
    assert.equal(s(r!.exp1), '2.718281828459045235360287471352662');
  });
});
