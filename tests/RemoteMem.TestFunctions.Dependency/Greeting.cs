namespace RemoteMem.TestFunctions.Dependency;

/// <summary>Something only this assembly knows, so a call proves it was loaded from the package.</summary>
public static class Greeting
{
    public static string For(string name) => $"hello {name} from {typeof(Greeting).Assembly.GetName().Name}";
}
